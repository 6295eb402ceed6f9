/**
 * Pure parsing of /etc/resolv.conf for `socklab dns` without `--server`: the
 * name servers the C library's stub resolver would ask, in order.
 *
 * ```text
 * line := "nameserver" ADDRESS [comment] | other keyword ... | ("#" | ";") comment
 * at most 3 name servers are used (MAXNS); none means 127.0.0.1, as in glibc
 * ```
 *
 * @example
 * ```ts
 * import { nameServers } from "./resolv_conf.ts";
 * console.assert(nameServers("nameserver 10.0.0.53\n")[0] === "10.0.0.53");
 * console.assert(nameServers("")[0] === "127.0.0.1");
 * ```
 * @module
 */
import { pton } from "./inet.ts";

/** glibc's MAXNS: later name servers are ignored. */
export const MAX_NAME_SERVERS = 3;

/** The name servers in `text` (a resolv.conf), at most 3; 127.0.0.1 if none. */
export function nameServers(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/[#;].*$/, "").trim();
    const [keyword, address] = line.split(/\s+/);
    if (keyword !== "nameserver" || address === undefined) continue;
    if (!pton(address.split("%")[0])) continue; // glibc skips what it cannot parse
    if (out.length < MAX_NAME_SERVERS) out.push(address);
  }
  return out.length ? out : ["127.0.0.1"];
}
