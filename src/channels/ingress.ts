// What a receiver may do with a verified message: hand it off durably, or (card clicks, which must be answered
// with the new card inside the platform's deadline) have it handled at once.
import type { Card } from '../domain/messages.js';
import type { Logger } from '../log.js';
import type { Envelope } from './envelope.js';

/** A signed request's identity: refused as a replay when seen again within ttlMs. */
export interface ReplayCheck {
  key: string;
  ttlMs: number;
}

export interface Ingress {
  /**
   * Durable hand-off; resolves true once the message is safe in Redis, false (nothing stored) when `replay` was
   * already seen. The replay check and the hand-off are one step, so neither can happen without the other.
   */
  accept(env: Envelope, replay?: ReplayCheck): Promise<boolean>;
  /**
   * Handles a button click now; returns the card the clicker should see, if any. The same envelope id again within
   * `repeatWithinMs` (default a day) is a repeated delivery: nothing is done and nothing returned.
   */
  click(env: Envelope, o?: { repeatWithinMs?: number }): Promise<Card | undefined>;
  /** true the first time a signed request is seen within ttl; false for a replay (for requests handled inline). */
  firstSight(key: string, ttlMs: number): Promise<boolean>;
  /** Forget a request (its hand-off failed, so the platform's retry must be let in). */
  forget(key: string): Promise<void>;
  maxSkewMs: number;
  bodyLimitBytes: number;
  log: Logger;
  now(): number;
}
