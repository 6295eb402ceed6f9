/**
 * Signed registrations (`binder --key FILE`, `exec-server --key FILE`): a
 * REGISTER carries the sender's clock and an HMAC-SHA256, made with a key
 * both sides share, of the datagram and that time. The binder accepts it when
 * the HMAC checks, the time is within {@linkcode MAX_CLOCK_SKEW_MS} of its
 * own, and the signature was never seen (each is claimed in the store, shared
 * by every binder on one Redis), so a captured REGISTER cannot be replayed
 * from another address. Pure apart from reading the key file.
 *
 * ```text
 * signed REGISTER = "REGISTER" 1*(SP command) SP "t=" ms SP "sig=" hex(HMAC-SHA256(key, "REGISTER ... t=ms"))
 * ```
 *
 * @example
 * ```ts
 * import { signRegister, verifySignature } from "./auth.ts";
 * import { parseRequest } from "./protocol.ts";
 * const key = new TextEncoder().encode("a shared secret of 16+ bytes");
 * const req = parseRequest(signRegister(["MAX"], key, 1_000_000));
 * console.assert(req.kind === "register" && verifySignature(req.signature, key, 1_000_500) === undefined);
 * ```
 * @module
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { UsageError } from "../cli/errors.ts";
import { formatRegister, type RegisterSignature } from "./protocol.ts";

/** Largest difference between the signer's clock and the binder's. */
export const MAX_CLOCK_SKEW_MS = 30_000;
/** Shortest key accepted (bytes). */
export const MIN_KEY_BYTES = 16;

/** Hex HMAC-SHA256 of `text` with `key`. */
export function registerMac(key: Uint8Array, text: string): string {
  return createHmac("sha256", key).update(text).digest("hex");
}

/** `REGISTER C1 ... Ck t=MS sig=HEX`, signed with `key` at time `now` (ms since the epoch). */
export function signRegister(
  commands: readonly string[],
  key: Uint8Array,
  now = Date.now(),
): string {
  const signed = `${formatRegister(commands)} t=${Math.floor(now)}`;
  return `${signed} sig=${registerMac(key, signed)}`;
}

/**
 * Why a signature is refused (`undefined`: it is good). Replays are the
 * store's to catch ({@linkcode BinderStore.claimSignature}).
 */
export function verifySignature(
  signature: RegisterSignature | undefined,
  key: Uint8Array,
  now = Date.now(),
): string | undefined {
  if (!signature) return "REGISTER must be signed (this binder has --key; see exec-server --key)";
  const skew = signature.time - now;
  if (Math.abs(skew) > MAX_CLOCK_SKEW_MS) {
    return `signed REGISTER is ${Math.round(Math.abs(skew) / 1000)} s ${
      skew < 0 ? "old" : "ahead"
    } (clocks must agree within ${MAX_CLOCK_SKEW_MS / 1000} s)`;
  }
  const want = createHmac("sha256", key).update(signature.signed).digest();
  const got = new Uint8Array((signature.sig.match(/../g) ?? []).map((h) => parseInt(h, 16)));
  if (got.length !== want.length || !timingSafeEqual(got, want)) {
    return "bad signature (not made with this binder's key)";
  }
  return undefined;
}

/**
 * Reads `--key FILE`: its bytes, without a final newline (so `echo secret >
 * FILE` works). A missing or short file is a UsageError naming it.
 */
export async function readKeyFile(path: string, usage: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    throw new UsageError(`--key: cannot read "${path}": ${(err as Error).message}`, usage);
  }
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 10 || bytes[end - 1] === 13)) end--;
  if (end < MIN_KEY_BYTES) {
    throw new UsageError(
      `--key: "${path}" holds ${end} bytes; a key needs at least ${MIN_KEY_BYTES}`,
      usage,
    );
  }
  return bytes.subarray(0, end);
}
