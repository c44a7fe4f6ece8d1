// FLUX's rotary-embedding table (spec/flux.md §2), computed in float64 from the position ids and
// stored as f32 for shaders/rope.wgsl. Float64 matters: angles reach 63 rad at 1024² and an f32
// angle is off by up to 4e-6 rad there, against 6e-8 for an f32 rounding of cos and sin.

export const FLUX_AXES_DIM: readonly number[] = [16, 56, 56];
export const FLUX_ROPE_THETA = 10_000;

export interface RopeTable {
  /** [positions, pairs, 2]: (cos, sin) of each pair's angle */
  values: Float32Array;
  positions: number;
  /** pairs per head = head_dim / 2 */
  pairs: number;
}

/**
 * Table for `ids` [positions, axes] (one id per axis and position, floats). Pair p of a head
 * belongs to the axis whose dims cover 2p; its k-th pair within axis a (of dim d) turns by
 * id_a · theta^(−2k/d).
 */
export function ropeTable(ids: ArrayLike<number>, axesDim: readonly number[] = FLUX_AXES_DIM, theta = FLUX_ROPE_THETA): RopeTable {
  const axes = axesDim.length;
  const frequencies = axesDim.flatMap((dim, axis) => Array.from({ length: dim / 2 }, (_, k) => ({ axis, frequency: theta ** ((-2 * k) / dim) })));
  const pairs = frequencies.length;
  const positions = ids.length / axes;
  const values = new Float32Array(positions * pairs * 2);
  for (let position = 0; position < positions; position++) {
    frequencies.forEach(({ axis, frequency }, pair) => {
      const angle = ids[position * axes + axis] * frequency;
      values[2 * (position * pairs + pair)] = Math.cos(angle);
      values[2 * (position * pairs + pair) + 1] = Math.sin(angle);
    });
  }
  return { values, positions, pairs };
}

/**
 * FLUX's position ids [textTokens + gridRows·gridCols, 3]: (0, 0, 0) for every text token, then
 * (0, row, col) for the packed image tokens in row-major order (spec/flux.md §2, §3.1).
 */
export function fluxPositionIds(textTokens: number, gridRows: number, gridCols: number): Float64Array {
  const ids = new Float64Array((textTokens + gridRows * gridCols) * 3);
  for (let row = 0; row < gridRows; row++) {
    for (let col = 0; col < gridCols; col++) {
      const token = textTokens + row * gridCols + col;
      ids[3 * token + 1] = row;
      ids[3 * token + 2] = col;
    }
  }
  return ids;
}
