/**
 * What a fan-out server does with a client's outgoing backlog, as a pure
 * decision on two numbers: the bytes queued for it and how long it has gone
 * without taking any (no write progress). It tells a slow client that is
 * still reading (keep it, slow the senders down) from a stalled one that is
 * not reading at all (drop it, so nobody waits for it).
 *
 * ```text
 * held > max, idle > stallMs                → "stalled"   drop: not reading
 * held > max, idle ≤ stallMs                → "overflow"  drop: reading, but too slow
 * held > lag (max / 4), idle ≤ stallMs      → "lagging"   pause the senders until held ≤ max / 8
 * otherwise                                 → "ok"
 * ```
 *
 * A stalled client holds the senders back for at most `stallMs` (it lags
 * first, then its idle time frees the senders and its queue fills); the
 * slack between `lag` and `max` absorbs the lines already read when the
 * senders are paused.
 *
 * @example
 * ```ts
 * import { backlogLimits, judgeBacklog } from "./backlog.ts";
 * const limits = backlogLimits(256 * 1024);
 * console.assert(judgeBacklog(100_000, 5, limits) === "lagging");
 * console.assert(judgeBacklog(300_000, 5_000, limits) === "stalled");
 * ```
 * @module
 */

/** Default time without write progress after which a client with a backlog counts as stalled. */
export const DEFAULT_STALL_MS = 250;

/** The thresholds {@linkcode judgeBacklog} applies, in bytes and ms. */
export interface BacklogLimits {
  /** The queue bound a user sets: a client is never held more than this. */
  maxBytes: number;
  /** Over this, a client that is still taking bytes pauses the senders. */
  lagBytes: number;
  /** A paused-for client lets the senders go again at or under this. */
  resumeBytes: number;
  /** Time without progress that makes a backlog a stall. */
  stallMs: number;
}

/** The limits that follow from a queue bound. */
export function backlogLimits(maxBytes: number, stallMs = DEFAULT_STALL_MS): BacklogLimits {
  return {
    maxBytes,
    lagBytes: Math.floor(maxBytes / 4),
    resumeBytes: Math.floor(maxBytes / 8),
    stallMs,
  };
}

/** What to do with a client's backlog. */
export type BacklogVerdict = "ok" | "lagging" | "stalled" | "overflow";

/** Judges `held` queued bytes that have seen no progress for `idleMs`. */
export function judgeBacklog(held: number, idleMs: number, limits: BacklogLimits): BacklogVerdict {
  const stalled = idleMs > limits.stallMs;
  if (held > limits.maxBytes) return stalled ? "stalled" : "overflow";
  return !stalled && held > limits.lagBytes ? "lagging" : "ok";
}

/** Whether a lagging client no longer holds the senders back: drained, or stalled after all. */
export function lagOver(held: number, idleMs: number, limits: BacklogLimits): boolean {
  return held <= limits.resumeBytes || idleMs > limits.stallMs;
}
