/**
 * Hand-built DNS replies for tests that need a server dnsmasq cannot be:
 * one that answers with garbage, a wrong id, a compression loop.
 * @module
 */
import { wireName } from "./dnsmasq.ts";

const fromHex = (h: string) => new Uint8Array(h.match(/../g)?.map((x) => parseInt(x, 16)) ?? []);

/** A reply to `query` (its id and question) with the given answers (rdata as hex). */
export function craftReply(
  query: Uint8Array,
  answers: { type: number; ttl: number; rdata: string }[],
  options: { id?: number; rcode?: number; tc?: boolean } = {},
): Uint8Array {
  // The question ends after its name and 4 bytes; the query's OPT record is dropped.
  let at = 12;
  while (query[at] !== 0) at += query[at] + 1;
  const question = query.subarray(12, at + 5);
  const parts: number[] = [];
  const id = options.id ?? ((query[0] << 8) | query[1]);
  parts.push(id >> 8, id & 0xff, 0x81 | (options.tc ? 0x02 : 0), 0x80 | (options.rcode ?? 0));
  parts.push(0, 1, answers.length >> 8, answers.length & 0xff, 0, 0, 0, 0);
  parts.push(...question);
  for (const a of answers) {
    const rdata = fromHex(a.rdata);
    parts.push(0xc0, 12, a.type >> 8, a.type & 0xff, 0, 1);
    parts.push((a.ttl >>> 24) & 0xff, (a.ttl >>> 16) & 0xff, (a.ttl >>> 8) & 0xff, a.ttl & 0xff);
    parts.push(rdata.length >> 8, rdata.length & 0xff, ...rdata);
  }
  return new Uint8Array(parts);
}

/** A raw message from hex (for malformed cases). */
export { fromHex, wireName };
