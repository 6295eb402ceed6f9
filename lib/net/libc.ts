/**
 * libc through FFI, for the Linux paths that need system calls Deno does not
 * offer (`recvmmsg`/`sendmmsg` in lib/net/udp_fast.ts, `IP_RECVERR` in
 * lib/net/udp_refused.ts, a connected batch socket in lib/loadgen/udp_batch.ts).
 * Each caller names the calls it uses; the library is opened once per caller,
 * on first use, and is `null` where those paths cannot run (not Linux
 * x86-64/aarch64, FFI not allowed, no libc): the caller then takes its
 * portable way. The Linux constants more than one of them passes live here too.
 *
 * @example
 * ```ts
 * import { libcLoader } from "./libc.ts";
 * const libc = libcLoader({ getpid: { parameters: [], result: "i32" } });
 * const lib = libc(); // opened now; the same object (or null) on every later call
 * if (lib) console.assert(lib.getpid() === Deno.pid);
 * ```
 * @module
 */

/** Address families of `sockaddr_in` and `sockaddr_in6`. */
export const AF_INET = 2;
export const AF_INET6 = 10;
/** `recvmmsg`/`recvmsg` flag: return at once when nothing is queued. */
export const MSG_DONTWAIT = 0x40;
/** `struct mmsghdr` on LP64 Linux: msghdr (56) + msg_len (4) + padding (4). */
export const MMSGHDR = 64;
/** `struct iovec` on LP64 Linux: base pointer and length. */
export const IOVEC = 16;

/** Opened with every symbol table, so {@linkcode errnoOf} works on any loaded libc. */
const ERRNO = { __errno_location: { parameters: [], result: "pointer" } } as const;

/** The calls of a libc opened with `symbols` (and `__errno_location`). */
export type LibcSymbols<S extends Deno.ForeignLibraryInterface> = Deno.DynamicLibrary<
  S & typeof ERRNO
>["symbols"];

/** The names libc goes by, tried in order (the versioned one needs no -dev package). */
const LIBC_NAMES = ["libc.so.6", "libc.so"];

/** True where FFI into libc may be tried: Linux on x86-64 or aarch64, FFI allowed. */
export function libcUsable(): boolean {
  if (Deno.build.os !== "linux") return false;
  if (Deno.build.arch !== "x86_64" && Deno.build.arch !== "aarch64") return false;
  return Deno.permissions.querySync({ name: "ffi" }).state === "granted";
}

/** Opens libc with `symbols`, or `null` where it cannot be (see {@linkcode libcUsable}). */
export function openLibc<S extends Deno.ForeignLibraryInterface>(
  symbols: S,
): LibcSymbols<S> | null {
  try {
    if (!libcUsable()) return null;
  } catch {
    return null;
  }
  for (const name of LIBC_NAMES) {
    try {
      return Deno.dlopen(name, { ...symbols, ...ERRNO }).symbols;
    } catch {
      // try the next name
    }
  }
  return null;
}

/** A function that opens libc with `symbols` on its first call and returns the same result after. */
export function libcLoader<S extends Deno.ForeignLibraryInterface>(
  symbols: S,
): () => LibcSymbols<S> | null {
  let lib: LibcSymbols<S> | null | undefined;
  return () => lib === undefined ? (lib = openLibc(symbols)) : lib;
}

/** The calling thread's `errno`, through the library's `__errno_location` (0 when unknown). */
export function errnoOf(lib: { __errno_location(): Deno.PointerValue }): number {
  const p = lib.__errno_location();
  return p ? new Deno.UnsafePointerView(p).getInt32() : 0;
}
