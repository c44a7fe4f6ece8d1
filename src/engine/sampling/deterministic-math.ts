// log, sin and cos built only from +, -, *, / on float64, which IEEE 754 rounds exactly, so every
// JavaScript engine gets the same bits (Math.log/sin/cos are implementation-defined). Only the
// arguments the noise generator needs are supported: u = k * 2^-24 for integer k.

const LN2 = 0.6931471805599453;
const TWO_PI = 6.283185307179586;

/** ln(k * 2^-24) for an integer 1 <= k <= 2^24. */
export function logOfDyadic24(k: number): number {
  const exponent = 31 - Math.clz32(k); // k = m * 2^exponent, m in [1, 2)
  const m = k / 2 ** exponent;
  // ln m = 2 atanh(s), s = (m - 1)/(m + 1) in [0, 1/3): the series converges below 1e-17 in 18 terms.
  const s = (m - 1) / (m + 1);
  const s2 = s * s;
  let term = s;
  let sum = 0;
  for (let n = 1; n <= 35; n += 2) {
    sum += term / n;
    term *= s2;
  }
  return 2 * sum + (exponent - 24) * LN2;
}

/** [cos, sin] of 2*pi*j*2^-24 for an integer 0 <= j < 2^24, reduced by octant so the series stays short. */
export function cosSinOfTurn24(j: number): [number, number] {
  const octant = j >>> 21; // 8 octants of 2^21 steps each
  const within = j & 0x1fffff;
  // Angle from the nearest octant boundary that keeps it within [0, pi/4].
  const reflected = octant % 2 === 1;
  const steps = reflected ? 0x200000 - within : within;
  const [c, s] = cosSinSmall((TWO_PI * steps) / 2 ** 24);
  // Rotate back: octant o covers [o*pi/4, (o+1)*pi/4).
  const quadrant = octant >>> 1;
  const [baseCos, baseSin] = reflected ? [s, c] : [c, s];
  switch (quadrant) {
    case 0: return [baseCos, baseSin];
    case 1: return [-baseSin, baseCos];
    case 2: return [-baseCos, -baseSin];
    default: return [baseSin, -baseCos];
  }
}

/** Taylor series of cos and sin for 0 <= x <= pi/4 (error below 1e-17 with terms up to x^21). */
function cosSinSmall(x: number): [number, number] {
  const x2 = x * x;
  let cos = 0;
  let sin = 0;
  let cosTerm = 1;
  let sinTerm = x;
  for (let n = 0; n < 11; n++) {
    cos += cosTerm;
    sin += sinTerm;
    cosTerm *= -x2 / ((2 * n + 1) * (2 * n + 2));
    sinTerm *= -x2 / ((2 * n + 2) * (2 * n + 3));
  }
  return [cos, sin];
}
