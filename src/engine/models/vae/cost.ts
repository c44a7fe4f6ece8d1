// Floating-point work of one VAE decode (multiply-adds counted as 2): the convolutions and the
// mid-block attention's two matrix products. GroupNorm, SiLU and the I/O kernels are left out
// (below 0.1% of the total).

import type { PatchGrid } from '../../ops/layout';
import { decoderLayout, type VaeDecoderConfig } from './config';

export function vaeDecoderFlops(config: VaeDecoderConfig, grid: PatchGrid): number {
  const layout = decoderLayout(config);
  let pixels = 4 * grid.rows * grid.cols;
  const conv = (inChannels: number, outChannels: number, kernelSize: number) => 2 * pixels * outChannels * inChannels * kernelSize ** 2;
  const resnet = (block: { inChannels: number; outChannels: number; shortcut: boolean }) =>
    conv(block.inChannels, block.outChannels, 3) + conv(block.outChannels, block.outChannels, 3) + (block.shortcut ? conv(block.inChannels, block.outChannels, 1) : 0);
  const { channels } = layout.mid.attention;
  let flops = conv(layout.convIn.inChannels, layout.convIn.outChannels, 3);
  flops += resnet(layout.mid.block1) + resnet(layout.mid.block2);
  flops += conv(channels, 4 * channels, 1) + 4 * pixels * pixels * channels;
  for (const level of layout.levels) {
    for (const block of level.blocks) flops += resnet(block);
    if (level.upsample) {
      pixels *= 4;
      flops += conv(level.upsample.channels, level.upsample.channels, 3);
    }
  }
  return flops + conv(layout.convOut.inChannels, layout.convOut.outChannels, 3);
}
