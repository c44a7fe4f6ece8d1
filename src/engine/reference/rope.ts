// Float64 reference of FLUX's rotary position embedding (spec/flux.md §2): per head, pair p
// (dims 2p, 2p+1) is rotated by the angle pos_axis · theta^(−2k/d_axis), where the pairs are
// split over the axes in order (8 for axis 0, 28 for axis 1, 28 for axis 2 with axes_dim
// [16, 56, 56]).

/** Rotation angle of every pair of one token with position ids `ids` (one per axis). */
function pairAngles(ids: ArrayLike<number>, axesDim: readonly number[], theta: number): number[] {
  const angles: number[] = [];
  axesDim.forEach((dim, axis) => {
    for (let k = 0; k < dim / 2; k++) angles.push(ids[axis] * theta ** ((-2 * k) / dim));
  });
  return angles;
}

/**
 * Rotates x [rows, heads·headDim] (dense) where row i has the position ids
 * `idsOfRow(i)` (one per axis). headDim = sum(axesDim).
 */
export function ropeReference(x: ArrayLike<number>, heads: number, idsOfRow: (row: number) => ArrayLike<number>, axesDim: readonly number[], theta: number): Float64Array {
  const headDim = axesDim.reduce((a, b) => a + b, 0);
  const width = heads * headDim;
  const out = new Float64Array(x.length);
  for (let row = 0; row * width < x.length; row++) {
    const angles = pairAngles(idsOfRow(row), axesDim, theta);
    for (let head = 0; head < heads; head++) {
      angles.forEach((angle, pair) => {
        const i = row * width + head * headDim + 2 * pair;
        const [a, b] = [x[i], x[i + 1]];
        out[i] = Math.cos(angle) * a - Math.sin(angle) * b;
        out[i + 1] = Math.sin(angle) * a + Math.cos(angle) * b;
      });
    }
  }
  return out;
}
