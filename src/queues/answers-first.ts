// When the receiver and the workers share one process (npm start on one core, or HOUQIN_PROCESSES=1), they share
// one event loop, and a worker catching up on a backlog takes turns the next callback's answer waits for. Under a
// burst the receiver should win: the platform retries an answer that comes late, and every retry is more work.
//
// So the pump asks this meter before each read. While messages keep arriving *and* the event loop is nearly always
// busy (the receiver cannot keep up unless it gets more of the loop), the pump rests four times as long as its last
// batch took: the workers keep at least a fifth of the loop and never stop, and the answers get the rest. When
// arrivals slow or the loop has idle time, the pump reads at once again. A process that receives nothing (the
// supervised workers process, `--role workers`) is never busy here, so it always runs at full speed.
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/** How often the meter looks again (ms): short enough to follow a burst, long enough for the utilisation to mean something. */
const everyMs = 50;
/** Arrivals per second from which a busy loop is the receiver's doing (a trickle of messages needs no protection). */
const busyRate = 200;
/** Event-loop utilisation from which the loop counts as saturated. */
const saturated = 0.8;
/** How long the pump rests per millisecond its last batch took, while the receiver needs the loop. */
const restPerMs = 4;
const minRestMs = 5;
const maxRestMs = 200;

export class AnswersFirst {
  private arrivals = 0;
  private seenArrivals = 0;
  private checkedAt = performance.now();
  private elu: EventLoopUtilization = performance.eventLoopUtilization();
  private busy = false;
  /** How many times the pump rested, for the metrics. */
  rests = 0;

  /** One message received in this process. */
  arrived(): void {
    this.arrivals++;
  }

  /** True while the receiver needs the loop (re-measured at most every 50 ms). */
  receiverBusy(now = performance.now()): boolean {
    const elapsed = now - this.checkedAt;
    if (elapsed >= everyMs) {
      const used = performance.eventLoopUtilization(this.elu).utilization;
      const rate = ((this.arrivals - this.seenArrivals) * 1000) / elapsed;
      this.busy = rate >= busyRate && used >= saturated;
      this.elu = performance.eventLoopUtilization();
      this.seenArrivals = this.arrivals;
      this.checkedAt = now;
    }
    return this.busy;
  }

  /** How long the pump waits before its next read, given that its last batch took `spentMs`; 0 = read at once. */
  restAfter(spentMs: number): number {
    if (!this.receiverBusy()) return 0;
    this.rests++;
    return Math.min(maxRestMs, Math.max(minRestMs, spentMs * restPerMs));
  }
}
