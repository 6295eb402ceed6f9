/**
 * The few assertions the tests use, on `node:assert/strict` (jsr:@std/assert is
 * unreachable from lab machines).
 * @module
 */
import assert from "node:assert/strict";

/** Deep strict equality. */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  assert.deepStrictEqual(actual, expected, message);
}

/** Truthiness. */
export function assertOk(value: unknown, message?: string): asserts value {
  assert.ok(value, message);
}

/** `text` matches `pattern`. */
export function assertMatch(text: string, pattern: RegExp, message?: string): void {
  assert.match(text, pattern, message);
}

/** `fn` throws an error whose message matches `pattern` (and is a `type`, if given). */
export function throws(
  fn: () => unknown,
  pattern: RegExp,
  type?: new (...a: never[]) => Error,
): void {
  assert.throws(fn, (err: unknown) => {
    if (type && !(err instanceof type)) return false;
    return err instanceof Error && pattern.test(err.message);
  });
}

/** The promise rejects with an error whose message matches `pattern`. */
export async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof Error && pattern.test(err.message));
}

/**
 * What `p` rejects with, or undefined when it resolves: for a test that
 * checks the error's type and message itself.
 *
 * @example
 * ```ts
 * import { errorOf } from "./assert.ts";
 * const err = await errorOf(Promise.reject(new RangeError("too far")));
 * console.assert(err instanceof RangeError);
 * ```
 */
export function errorOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => undefined, (err) => err);
}
