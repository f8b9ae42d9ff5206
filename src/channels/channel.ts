// What the queue layer needs from a channel's sending side. Receivers are plain Koa routes per channel.
import type { Outgoing, Target } from '../domain/messages.js';

export interface DeliveryContext {
  jobId: string; // stable across retries: platforms that support it use it to refuse duplicates
  attempt: number;
}

export interface Channel {
  readonly name: string;
  /** Whether this channel can carry a message to this target with its current configuration. */
  reaches(to: Target): boolean;
  /** Sends, or throws PlatformError (retryable or not) / RetryLater. */
  deliver(out: Outgoing, ctx: DeliveryContext): Promise<void>;
  close?(): Promise<void>;
}

/** Thrown when a send must wait (a rate limit) — not a failure, does not use up an attempt. */
export class RetryLater extends Error {
  constructor(
    readonly delayMs: number,
    reason: string,
  ) {
    super(reason);
  }
}
