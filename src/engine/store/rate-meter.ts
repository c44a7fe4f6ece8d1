// Download rate over a sliding window, and the time left at that rate.

/** The window the rate is measured over, ms: long enough to smooth chunk bursts, short enough to follow a changing network. */
const WINDOW_MS = 5000;

export class RateMeter {
  private readonly samples: { at: number; bytes: number }[] = [];

  constructor(private readonly now: () => number) {}

  /** Records that `bytes` (a running total) were reached now. */
  add(bytes: number): void {
    const at = this.now();
    this.samples.push({ at, bytes });
    while (this.samples.length > 2 && at - this.samples[1].at >= WINDOW_MS) this.samples.shift();
  }

  /** Forgets the history (after a pause: the time away is not a slow network). */
  reset(): void {
    this.samples.length = 0;
  }

  /** bytes/s; 0 until two samples some time apart exist */
  get bytesPerSecond(): number {
    if (this.samples.length < 2) return 0;
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const seconds = (last.at - first.at) / 1000;
    return seconds > 0 ? (last.bytes - first.bytes) / seconds : 0;
  }

  /** s to go for `remaining` bytes, or undefined while no rate is known */
  etaSeconds(remaining: number): number | undefined {
    const rate = this.bytesPerSecond;
    return rate > 0 ? remaining / rate : undefined;
  }
}
