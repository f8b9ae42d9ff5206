// Exponential backoff with "full jitter" (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/):
// each wait is drawn at random between a floor and min(cap, base·2^n). The jitter keeps several instances (or
// several schools behind one NAT) from retrying in step; the floor keeps a draw near zero from becoming a spin
// against a rate-protected call such as WeCom's aibot_subscribe.

export interface BackoffOptions {
  /** The ceiling of the first draw. */
  baseMs: number;
  /** No draw is above this, however many failures in a row. */
  capMs: number;
  /** No draw is below this. */
  floorMs: number;
  random?: () => number;
}

export class Backoff {
  private failures = 0;

  constructor(private o: BackoffOptions) {}

  /** The wait before the next attempt; each call counts one more failure in a row. */
  next(): number {
    const ceiling = Math.min(this.o.capMs, this.o.baseMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    const draw = Math.round((this.o.random ?? Math.random)() * ceiling);
    return Math.min(this.o.capMs, Math.max(this.o.floorMs, draw));
  }

  /** Failures in a row so far. */
  get count(): number {
    return this.failures;
  }

  /** A success (a connection that stayed up): the next failure starts from the base again. */
  reset(): void {
    this.failures = 0;
  }
}
