/**
 * What a fan-out server does with a client's outgoing backlog, as a pure
 * decision on two numbers: the bytes queued for it and how long its write in
 * flight has been waiting ("stuck": a peer that reads finishes each write at
 * once; one whose kernel buffers are full and who takes nothing leaves it
 * waiting). It tells a slow client that is still reading (keep it, slow the
 * senders down) from a stalled one (let it go, then drop it).
 *
 * ```text
 * held > hard (16 × max)                   → "overflow"  drop: a memory backstop
 * stuck ≤ stallMs, held > lag (max / 4)    → "lagging"   pause the senders until held ≤ max / 8
 * stuck > dropMs (4 × stallMs), held > max → "stalled"   drop: not reading
 * otherwise                                → "ok"
 * ```
 *
 * A stalled client holds the senders back for at most `stallMs` (it lags
 * first, then being stuck frees the senders); it is dropped once its backlog
 * is over `max` and it has taken nothing for `dropMs`. A reader that is only
 * busy for a moment (a loaded machine) is given `dropMs` to come back.
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

/** Default time stuck after which a lagging client stops holding the senders back. */
export const DEFAULT_STALL_MS = 250;

/** The thresholds {@linkcode judgeBacklog} applies, in bytes and ms. */
export interface BacklogLimits {
  /** The queue bound a user sets: over it, a client stuck for `dropMs` is dropped. */
  maxBytes: number;
  /** Over this, a client that is still taking bytes pauses the senders. */
  lagBytes: number;
  /** A paused-for client lets the senders go again at or under this. */
  resumeBytes: number;
  /** Over this, any client is dropped. */
  hardBytes: number;
  /** Stuck this long, a client no longer holds the senders back. */
  stallMs: number;
  /** Stuck this long with more than `maxBytes` queued, a client is dropped. */
  dropMs: number;
}

/** The limits that follow from a queue bound. */
export function backlogLimits(maxBytes: number, stallMs = DEFAULT_STALL_MS): BacklogLimits {
  return {
    maxBytes,
    lagBytes: Math.floor(maxBytes / 4),
    resumeBytes: Math.floor(maxBytes / 8),
    hardBytes: maxBytes * 16,
    stallMs,
    dropMs: stallMs * 4,
  };
}

/** What to do with a client's backlog. */
export type BacklogVerdict = "ok" | "lagging" | "stalled" | "overflow";

/** Judges `held` queued bytes whose write has been stuck for `stuckMs`. */
export function judgeBacklog(held: number, stuckMs: number, limits: BacklogLimits): BacklogVerdict {
  if (held > limits.hardBytes) return "overflow";
  if (stuckMs <= limits.stallMs) return held > limits.lagBytes ? "lagging" : "ok";
  return stuckMs > limits.dropMs && held > limits.maxBytes ? "stalled" : "ok";
}

/** Whether a lagging client no longer holds the senders back: drained, or stalled after all. */
export function lagOver(held: number, stuckMs: number, limits: BacklogLimits): boolean {
  return held <= limits.resumeBytes || stuckMs > limits.stallMs;
}
