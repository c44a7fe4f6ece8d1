// Model files for the model-store tests: the tiny transformer the e2e tests also serve, and a tiny
// FLUX transformer whose block weights are K-quants (Q4_K), which the engine must refuse from
// its header before any of its data is downloaded.

import { encodeGguf } from '../../src/engine/formats/gguf-writer';
import { ggmlType, rowBytes, type GgmlTypeName } from '../../src/engine/formats/ggml-types';
import { fluxTensorShapes } from '../../src/engine/models/flux/config';
import { TINY_FLUX, TINY_STORY_FLUX, tinyFluxGguf } from '../../tools/tiny-models/flux';
import { concatParts } from '../unit/format-fixtures';

/** The tiny story transformer (FLUX.1 [dev] layout, Q4_0), as the e2e tests serve it. */
export function tinyTransformerFile(): Uint8Array<ArrayBuffer> {
  return joined(tinyFluxGguf({ weights: 'Q4_0', vectors: 'F32' }, TINY_STORY_FLUX));
}

/** A tiny FLUX.1 [dev] transformer whose double- and single-block matrices are Q4_K. */
export function kQuantFluxGguf(): Uint8Array<ArrayBuffer> {
  const tensors = [...fluxTensorShapes(TINY_FLUX)].map(([name, shape]) => {
    const type: GgmlTypeName = shape.length === 1 ? 'F32' : /^(double|single)_blocks\./.test(name) ? 'Q4_K' : 'F16';
    const rows = shape.length === 1 ? 1 : shape[0];
    const bytes = new Uint8Array(rows * rowBytes(ggmlType(type), shape[shape.length - 1])!).map((_, i) => (i * 2654435761) >>> 24);
    return { name, ne: [...shape].reverse(), type, bytes };
  });
  return joined(encodeGguf({ metadata: [['general.architecture', { type: 'string', value: 'flux' }]], tensors }));
}

/** One array of the parts (a Blob takes it as it is). */
function joined(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  return new Uint8Array(concatParts(parts));
}

