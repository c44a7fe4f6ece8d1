// CharaConsist's similarity-weighted token merge (shaders/token-merge.wgsl,
// spec/characonsist-official.md §8), in place on the frame's attention output.

import tokenMergeWgsl from '../../../shaders/token-merge.wgsl';
import type { Kernel } from '../gpu/kernels';
import type { Binding, Recorder } from '../gpu/recorder';
import type { GpuRuntime } from '../gpu/runtime';
import { grid1d } from './grid';
import { params, u32 } from './params';
import type { MatrixView } from './view';
import { requireCount, requireElements, checkDistinct, requireThat, checkView } from './checks';

const SOURCE = { file: 'shaders/token-merge.wgsl', code: tokenMergeWgsl };
const WORKGROUP = 256;

export interface TokenMergeArgs {
  /** Frame attention output [frameTokens, channels], updated in place. */
  frame: MatrixView;
  frameTokens: number;
  /** Identity attention output [identityTokens, channels] of the same block and step; a different buffer than frame. */
  identity: MatrixView;
  identityTokens: number;
  channels: number;
  /** [entries] u32 frame tokens t to merge; distinct (each row has one writer). */
  mergedFrameTokens: Binding;
  /** [entries] u32 identity token m(t) matched to each; may repeat. */
  matchedIdentityTokens: Binding;
  /** [entries] f32 weight a_t = w(step) * S_max(t). */
  weights: Binding;
  entries: number;
}

export class TokenMergeOp {
  private constructor(private readonly gpu: GpuRuntime, private readonly kernel: Kernel) {}

  static async create(gpu: GpuRuntime): Promise<TokenMergeOp> {
    const kernel = await gpu.kernels.get({
      name: 'token-merge',
      sources: [SOURCE],
      entryPoint: 'merge_tokens',
      storage: ['frame', 'identity', 'mergedFrameTokens', 'matchedIdentityTokens', 'weights'],
      params: true,
    });
    return new TokenMergeOp(gpu, kernel);
  }

  /**
   * Records frame[t] = (1 - a_t) frame[t] + a_t identity[m(t)] for every entry. Entries whose t or
   * m(t) lies outside its view are skipped. No entries: nothing is recorded.
   */
  record(rec: Recorder, args: TokenMergeArgs): void {
    checkArgs(args);
    const { frame, identity, mergedFrameTokens, matchedIdentityTokens, weights } = args;
    const grid = grid1d(args.entries * args.channels, WORKGROUP, this.gpu.limits.maxComputeWorkgroupsPerDimension);
    rec.dispatch(
      this.kernel,
      { frame: frame.buffer, identity: identity.buffer, mergedFrameTokens, matchedIdentityTokens, weights },
      params(
        u32(args.entries),
        u32(args.channels),
        u32(args.frameTokens),
        u32(args.identityTokens),
        u32(frame.offset),
        u32(frame.stride),
        u32(identity.offset),
        u32(identity.stride),
        u32(grid.rowStride),
      ),
      grid.workgroups,
    );
  }
}

function checkArgs(args: TokenMergeArgs): void {
  const op = 'token merge';
  requireCount(`${op} frameTokens`, args.frameTokens);
  requireCount(`${op} identityTokens`, args.identityTokens);
  requireCount(`${op} channels`, args.channels);
  requireCount(`${op} entries`, args.entries, 0);
  requireThat(op, args.entries <= args.frameTokens, `${args.entries} entries for ${args.frameTokens} frame tokens cannot name distinct tokens`);
  checkView(`${op} frame`, args.frame, args.frameTokens, args.channels);
  checkView(`${op} identity`, args.identity, args.identityTokens, args.channels);
  checkDistinct(`${op} frame`, args.frame.buffer, { identity: { buffer: args.identity.buffer } });
  for (const name of ['mergedFrameTokens', 'matchedIdentityTokens', 'weights'] as const) requireElements(`${op} ${name}`, args[name], args.entries);
}
