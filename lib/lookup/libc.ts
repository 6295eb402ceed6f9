/**
 * The C library's resolver through Deno FFI: getaddrinfo, getnameinfo and
 * gethostbyname_r from libc.so.6, so answers are exactly what C programs and
 * `getent` get (/etc/hosts, nsswitch, RFC 6724 order, /etc/services).
 *
 * Linux on 64-bit glibc only (struct layouts and constants below are
 * glibc's LP64 ones); callers fall back to node:dns elsewhere. Calls are
 * `nonblocking` (a worker thread), so a slow resolver never freezes the
 * event loop and Ctrl-C still works.
 *
 * ```text
 * struct addrinfo (48 bytes): 0 ai_flags i32 | 4 ai_family i32 | 8 ai_socktype i32
 *   | 12 ai_protocol i32 | 16 ai_addrlen u32 | 24 ai_addr ptr | 32 ai_canonname ptr
 *   | 40 ai_next ptr
 * struct sockaddr_in  (16): 0 family u16 | 2 port u16 BE | 4 addr[4]
 * struct sockaddr_in6 (28): 0 family u16 | 2 port u16 BE | 4 flowinfo u32
 *   | 8 addr[16] | 24 scope_id u32
 * struct hostent (32): 0 h_name ptr | 8 h_aliases ptr | 16 h_addrtype i32
 *   | 20 h_length i32 | 24 h_addr_list ptr
 * ```
 * @module
 */
import { AF_INET, AF_INET6, libcLoader, type LibcSymbols } from "../net/libc.ts";
import type { AddrInfo, AddrInfoHints, HostEnt, NameInfo, SockType } from "./addrinfo.ts";
import { ntop, pton } from "./inet.ts";

const SOCKTYPES: Record<number, SockType> = { 1: "stream", 2: "dgram", 3: "raw", 5: "seqpacket" };
const SOCKTYPE_NUMBERS = { stream: 1, dgram: 2, raw: 3 } as const;
const AI = {
  passive: 0x1,
  canonname: 0x2,
  numericHost: 0x4,
  v4mapped: 0x8,
  all: 0x10,
  addrconfig: 0x20,
  idn: 0x40 | 0x80, // AI_IDN | AI_CANONIDN
  numericServ: 0x400,
} as const;
/** getnameinfo flags (glibc). */
export const NI = {
  numericHost: 1,
  numericServ: 2,
  noFqdn: 4,
  nameRequired: 8,
  dgram: 16,
} as const;
const NI_MAXHOST = 1025;
const NI_MAXSERV = 32;
const ERANGE = 34;

/** glibc's EAI_* codes by value, for error names in messages and JSON. */
const EAI_NAMES: Record<number, string> = {
  [-1]: "EAI_BADFLAGS",
  [-2]: "EAI_NONAME",
  [-3]: "EAI_AGAIN",
  [-4]: "EAI_FAIL",
  [-5]: "EAI_NODATA",
  [-6]: "EAI_FAMILY",
  [-7]: "EAI_SOCKTYPE",
  [-8]: "EAI_SERVICE",
  [-9]: "EAI_ADDRFAMILY",
  [-10]: "EAI_MEMORY",
  [-11]: "EAI_SYSTEM",
  [-12]: "EAI_OVERFLOW",
};
/** hstrerror's texts by h_errno. */
const H_ERRNO: Record<number, [string, string]> = {
  1: ["HOST_NOT_FOUND", "Unknown host"],
  2: ["TRY_AGAIN", "Host name lookup failure"],
  3: ["NO_RECOVERY", "Unknown server error"],
  4: ["NO_DATA", "No address associated with name"],
};

/** A resolver failure: the C library's code name and its own message. */
export class ResolverError extends Error {
  /** e.g. "EAI_NONAME", "HOST_NOT_FOUND". */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "ResolverError";
    this.code = code;
  }
  /** True when the name (or address) simply does not exist. */
  get notFound(): boolean {
    return ["EAI_NONAME", "EAI_NODATA", "EAI_ADDRFAMILY", "HOST_NOT_FOUND", "NO_DATA"]
      .includes(this.code);
  }
}

const SYMBOLS = {
  getaddrinfo: {
    parameters: ["buffer", "buffer", "buffer", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  freeaddrinfo: { parameters: ["pointer"], result: "void" },
  gai_strerror: { parameters: ["i32"], result: "pointer" },
  getnameinfo: {
    parameters: ["buffer", "u32", "buffer", "u32", "buffer", "u32", "i32"],
    result: "i32",
    nonblocking: true,
  },
  gethostbyname_r: {
    parameters: ["buffer", "buffer", "buffer", "usize", "buffer", "buffer"],
    result: "i32",
    nonblocking: true,
  },
} as const;

type Libc = LibcSymbols<typeof SYMBOLS>;

/**
 * libc's symbols, or `null` when FFI cannot be used here: not Linux x86-64 or
 * aarch64, `--allow-ffi` not granted (checked without prompting), or no
 * libc.so.6 (e.g. musl).
 */
export const libc: () => Libc | null = libcLoader(SYMBOLS);

const encoder = new TextEncoder();

function cString(text: string): Uint8Array<ArrayBuffer> {
  const bytes = encoder.encode(text);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

function readCString(buf: Uint8Array): string {
  const end = buf.indexOf(0);
  return new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end));
}

function gaiError(c: Libc, code: number): ResolverError {
  const ptr = c.gai_strerror(code);
  const message = ptr ? Deno.UnsafePointerView.getCString(ptr) : `error ${code}`;
  return new ResolverError(EAI_NAMES[code] ?? `EAI_${code}`, message);
}

function readSockaddr(
  view: Deno.UnsafePointerView,
): { family: 4 | 6; address: string; port: number; scopeId?: number } | null {
  const family = view.getUint16(0);
  const port = (view.getUint8(2) << 8) | view.getUint8(3);
  if (family === AF_INET) {
    return { family: 4, address: ntop(new Uint8Array(view.getArrayBuffer(4, 4))), port };
  }
  if (family === AF_INET6) {
    const address = ntop(new Uint8Array(view.getArrayBuffer(16, 8)));
    const scopeId = view.getUint32(24);
    return scopeId ? { family: 6, address, port, scopeId } : { family: 6, address, port };
  }
  return null;
}

/** The C library's getaddrinfo: every result, in the resolver's order. */
export async function getaddrinfo(
  c: Libc,
  name: string | null,
  service: string | null,
  hints: AddrInfoHints,
): Promise<AddrInfo[]> {
  const hintBuf = new Uint8Array(48);
  const h = new DataView(hintBuf.buffer);
  let flags = 0;
  for (const key of Object.keys(AI) as (keyof typeof AI)[]) if (hints[key]) flags |= AI[key];
  h.setInt32(0, flags, true);
  h.setInt32(4, hints.family === 4 ? AF_INET : hints.family === 6 ? AF_INET6 : 0, true);
  h.setInt32(8, hints.socktype ? SOCKTYPE_NUMBERS[hints.socktype] : 0, true);
  h.setInt32(12, hints.protocol, true);
  const resBuf = new BigUint64Array(1);
  const nameBuf = name === null ? null : cString(name);
  const serviceBuf = service === null ? null : cString(service);
  const code = await c.getaddrinfo(nameBuf, serviceBuf, hintBuf, resBuf);
  if (code !== 0) throw gaiError(c, code);
  const head = Deno.UnsafePointer.create(resBuf[0]);
  const results: AddrInfo[] = [];
  try {
    for (let p = head; p !== null;) {
      const ai = new Deno.UnsafePointerView(p);
      const addrPtr = ai.getPointer(24);
      const canonPtr = ai.getPointer(32);
      const sa = addrPtr ? readSockaddr(new Deno.UnsafePointerView(addrPtr)) : null;
      if (sa) {
        const socktypeNumber = ai.getInt32(8);
        const r: AddrInfo = {
          ...sa,
          socktype: SOCKTYPES[socktypeNumber] ?? `type ${socktypeNumber}`,
          protocol: ai.getInt32(12),
        };
        if (canonPtr) r.canonname = Deno.UnsafePointerView.getCString(canonPtr);
        results.push(r);
      }
      p = ai.getPointer(40);
    }
  } finally {
    if (head) c.freeaddrinfo(head);
  }
  return results;
}

/** Builds a sockaddr_in/in6 for `address` (a literal) and `port`. */
function sockaddr(address: string, port: number): Uint8Array<ArrayBuffer> {
  const [addr, zone] = address.split("%");
  const parsed = pton(addr);
  if (!parsed) throw new SyntaxError(`Cannot parse address "${address}": not an IP literal`);
  const buf = new Uint8Array(parsed.family === 4 ? 16 : 28);
  const v = new DataView(buf.buffer);
  v.setUint16(0, parsed.family === 4 ? AF_INET : AF_INET6, true);
  v.setUint16(2, port, false);
  if (parsed.family === 4) {
    buf.set(parsed.bytes, 4);
  } else {
    buf.set(parsed.bytes, 8);
    if (zone !== undefined) {
      if (!/^[0-9]+$/.test(zone)) {
        throw new SyntaxError(`Cannot parse address "${address}": give the zone as a number`);
      }
      v.setUint32(24, Number(zone), true);
    }
  }
  return buf;
}

/** The C library's getnameinfo for an address literal (and a port, if given). */
export async function getnameinfo(
  c: Libc,
  address: string,
  port: number | null,
  flags: number,
): Promise<NameInfo> {
  const sa = sockaddr(address, port ?? 0);
  const host = new Uint8Array(NI_MAXHOST);
  const serv = new Uint8Array(NI_MAXSERV);
  const code = await c.getnameinfo(
    sa,
    sa.length,
    host,
    host.length,
    port === null ? null : serv,
    port === null ? 0 : serv.length,
    flags,
  );
  if (code !== 0) throw gaiError(c, code);
  const out: NameInfo = { host: readCString(host) };
  if (port !== null) out.service = readCString(serv);
  return out;
}

function readStringList(ptr: Deno.PointerValue): Deno.PointerObject[] {
  const out: Deno.PointerObject[] = [];
  if (!ptr) return out;
  const view = new Deno.UnsafePointerView(ptr);
  for (let k = 0;; k++) {
    const item = view.getPointer(8 * k);
    if (!item) return out;
    out.push(item);
  }
}

/** The C library's gethostbyname (the reentrant `_r` form): IPv4 only, as in the lecture. */
export async function gethostbyname(c: Libc, name: string): Promise<HostEnt> {
  const nameBuf = cString(name);
  const hostent = new Uint8Array(32);
  const result = new BigUint64Array(1);
  const herr = new Int32Array(1);
  for (let size = 4096; size <= 1 << 22; size *= 4) {
    const buf = new Uint8Array(size);
    const rc = await c.gethostbyname_r(nameBuf, hostent, buf, BigInt(size), result, herr);
    if (rc === ERANGE) continue;
    if (rc !== 0 || result[0] === 0n) {
      const [code, message] = H_ERRNO[herr[0]] ?? [`h_errno ${herr[0]}`, `error ${rc}`];
      throw new ResolverError(code, message);
    }
    const he = new Deno.UnsafePointerView(Deno.UnsafePointer.of(hostent)!);
    const namePtr = he.getPointer(0);
    const length = he.getInt32(20);
    const aliases = readStringList(he.getPointer(8)).map((p) =>
      Deno.UnsafePointerView.getCString(p)
    );
    const addresses = readStringList(he.getPointer(24)).map((p) =>
      ntop(new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(p, length)))
    );
    // `buf` must stay alive until here: the pointers above point into it.
    void buf.length;
    return {
      name: namePtr ? Deno.UnsafePointerView.getCString(namePtr) : name,
      aliases,
      addresses,
    };
  }
  throw new ResolverError("ERANGE", "answer too large");
}
