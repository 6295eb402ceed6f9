/**
 * ss's filter expressions for `socklab netstat`, as pure code: parse once,
 * then test each socket row. What an ss user types works the same here.
 *
 * ```text
 * expr   = term *( ("or" / "||" / "|") term )
 * term   = factor *( [ "and" / "&&" / "&" ] factor )      ; juxtaposition is "and"
 * factor = ("not" / "!") factor / "(" expr ")" / cond
 * cond   = ("sport" / "dport") op [":"] PORT               ; PORT: a number or a service name
 *        / ("src" / "dst") [ ("=" / "==" / "eq" / "!=" / "ne") ] HOST
 *        / "state" STATE                                  ; established, listening, time-wait, ...
 * op     = "=" / "==" / "eq" / "!=" / "ne" / "<" / "lt" / ">" / "gt" / "<=" / "le" / ">=" / "ge"
 * HOST   = ADDR ["/" BITS] [":" PORT] / "[" V6 "]" ["/" BITS] [":" PORT] / "*" [":" PORT]
 * ```
 *
 * @example
 * ```ts
 * import { matches, parseFilter } from "./filter.ts";
 * const f = parseFilter("sport = :5353 or dst 10.0.0.0/8", () => null);
 * const row = {
 *   proto: "udp" as const, state: null,
 *   local: { address: "0.0.0.0", port: 5353 }, remote: { address: "0.0.0.0", port: 0 },
 * };
 * console.assert(matches(f, row));
 * ```
 * @module
 */
import { pton } from "../lookup/inet.ts";
import type { Endpoint, Proto } from "./proc_net.ts";

/** A comparison of a port. */
export type PortOp = "eq" | "ne" | "lt" | "gt" | "le" | "ge";

/** An address prefix: the address bytes and how many leading bits count. */
export interface Prefix {
  bytes: Uint8Array;
  bits: number;
}

/** A parsed filter. */
export type Filter =
  | { kind: "and" | "or"; left: Filter; right: Filter }
  | { kind: "not"; inner: Filter }
  | { kind: "port"; side: "local" | "remote"; op: PortOp; port: number }
  | {
    kind: "host";
    side: "local" | "remote";
    negate: boolean;
    prefix: Prefix | null;
    port: number | null;
  }
  | { kind: "state"; state: string };

/** What a filter looks at in a socket. */
export interface FilterRow {
  proto: Proto;
  local: Endpoint;
  remote: Endpoint;
  /** netstat's state name; null for unconnected UDP. */
  state: string | null;
}

/** Resolves a service name (`ssh`) to its port; null when unknown. */
export type ServiceLookup = (name: string) => number | null;

const OPS: Record<string, PortOp> = {
  "=": "eq",
  "==": "eq",
  eq: "eq",
  "!=": "ne",
  ne: "ne",
  "<": "lt",
  lt: "lt",
  ">": "gt",
  gt: "gt",
  "<=": "le",
  le: "le",
  ">=": "ge",
  ge: "ge",
};

/** ss's state names (and netstat's) → netstat's. */
const STATES: Record<string, string> = {
  established: "ESTABLISHED",
  "syn-sent": "SYN_SENT",
  "syn-recv": "SYN_RECV",
  "fin-wait-1": "FIN_WAIT1",
  "fin-wait-2": "FIN_WAIT2",
  "time-wait": "TIME_WAIT",
  closed: "CLOSE",
  "close-wait": "CLOSE_WAIT",
  "last-ack": "LAST_ACK",
  listening: "LISTEN",
  listen: "LISTEN",
  closing: "CLOSING",
  unconnected: "UNCONN",
};

/** Splits a filter into words, parentheses and operators (`sport=:22` is three words). */
export function tokenize(text: string): string[] {
  return text.match(/\(|\)|!=|==|<=|>=|=|<|>|&&|\|\||&|\||!|[^\s()!=<>&|]+/g) ?? [];
}

class Parser {
  #k = 0;
  constructor(readonly tokens: string[], readonly services: ServiceLookup) {}

  peek(): string | undefined {
    return this.tokens[this.#k];
  }

  next(what: string): string {
    const t = this.tokens[this.#k++];
    if (t === undefined) throw new SyntaxError(`Cannot parse filter: ${what} expected at the end`);
    return t;
  }

  expr(): Filter {
    let left = this.term();
    while (["or", "||", "|"].includes(this.peek() ?? "")) {
      this.#k++;
      left = { kind: "or", left, right: this.term() };
    }
    return left;
  }

  term(): Filter {
    let left = this.factor();
    for (let t = this.peek(); t !== undefined && t !== ")" && !isOr(t); t = this.peek()) {
      if (["and", "&&", "&"].includes(t)) this.#k++;
      left = { kind: "and", left, right: this.factor() };
    }
    return left;
  }

  factor(): Filter {
    const t = this.next("a condition");
    if (t === "not" || t === "!") return { kind: "not", inner: this.factor() };
    if (t === "(") {
      const inner = this.expr();
      if (this.next('")"') !== ")") throw new SyntaxError('Cannot parse filter: ")" expected');
      return inner;
    }
    if (t === "sport" || t === "dport") return this.portCondition(t);
    if (t === "src" || t === "dst") return this.hostCondition(t);
    if (t === "state") return this.stateCondition();
    throw new SyntaxError(
      `Cannot parse filter: unexpected "${t}" (use sport, dport, src, dst, state, and, or, not)`,
    );
  }

  portCondition(word: "sport" | "dport"): Filter {
    const opText = this.next(`an operator after ${word}`);
    const op = OPS[opText];
    if (!op) throw new SyntaxError(`Cannot parse filter: "${opText}" is not an operator`);
    const port = parsePortWord(this.next(`a port after ${word}`), this.services);
    return { kind: "port", side: word === "sport" ? "local" : "remote", op, port };
  }

  hostCondition(word: "src" | "dst"): Filter {
    let text = this.next(`an address after ${word}`);
    let negate = false;
    if (OPS[text] === "eq" || OPS[text] === "ne") {
      negate = OPS[text] === "ne";
      text = this.next(`an address after ${word}`);
    }
    const { prefix, port } = parseHostWord(text, this.services);
    return { kind: "host", side: word === "src" ? "local" : "remote", negate, prefix, port };
  }

  stateCondition(): Filter {
    const word = this.next("a state name after state").toLowerCase();
    const state = STATES[word];
    if (!state) {
      throw new SyntaxError(
        `Cannot parse filter: unknown state "${word}" (${Object.keys(STATES).join(", ")})`,
      );
    }
    return { kind: "state", state };
  }
}

function isOr(t: string): boolean {
  return t === "or" || t === "||" || t === "|";
}

/** `:22`, `22`, `:ssh`: a port number or a service name. */
function parsePortWord(word: string, services: ServiceLookup): number {
  const text = word.startsWith(":") ? word.slice(1) : word;
  if (/^[0-9]{1,5}$/.test(text) && Number(text) <= 65535) return Number(text);
  const port = /^[A-Za-z][\w.+-]*$/.test(text) ? services(text) : null;
  if (port === null) throw new SyntaxError(`Cannot parse filter: "${word}" is not a port`);
  return port;
}

/** `ADDR[/BITS][:PORT]`, `[V6][/BITS][:PORT]`, `*[:PORT]`, or a bare IPv6 address. */
function parseHostWord(
  word: string,
  services: ServiceLookup,
): { prefix: Prefix | null; port: number | null } {
  let host = word;
  let port: number | null = null;
  const bracket = /^\[([^\]]+)\](.*)$/.exec(word);
  if (bracket) {
    host = bracket[1];
    const rest = bracket[2];
    const bits = /^\/(\d+)/.exec(rest);
    if (bits) host += bits[0];
    const tail = rest.slice(bits?.[0].length ?? 0);
    if (tail.startsWith(":")) port = parsePortWord(tail, services);
    else if (tail !== "") throw new SyntaxError(`Cannot parse filter: bad address "${word}"`);
  } else if (!pton(host.split("/")[0]) && host.includes(":")) {
    const colon = host.lastIndexOf(":");
    port = parsePortWord(host.slice(colon), services);
    host = host.slice(0, colon);
  }
  if (host === "*" || host === "") return { prefix: null, port };
  return { prefix: parsePrefix(host, word), port };
}

function parsePrefix(text: string, word: string): Prefix {
  const [addr, bitsText] = text.split("/");
  const parsed = pton(addr);
  if (!parsed) throw new SyntaxError(`Cannot parse filter: "${word}" is not an address`);
  const max = parsed.bytes.length * 8;
  const bits = bitsText === undefined ? max : Number(bitsText);
  if (!/^[0-9]*$/.test(bitsText ?? "") || bits > max) {
    throw new SyntaxError(`Cannot parse filter: bad prefix length in "${word}"`);
  }
  return { bytes: parsed.bytes, bits };
}

/** Parses a filter; throws SyntaxError naming what is wrong. An empty text is null (no filter). */
export function parseFilter(text: string, services: ServiceLookup): Filter | null {
  const tokens = tokenize(text);
  if (tokens.length === 0) return null;
  const parser = new Parser(tokens, services);
  const filter = parser.expr();
  const extra = parser.peek();
  if (extra !== undefined) throw new SyntaxError(`Cannot parse filter: unexpected "${extra}"`);
  return filter;
}

/** The address's bytes, IPv4-mapped IPv6 as IPv4 (as ss compares them). */
function addressBytes(address: string): Uint8Array | null {
  const parsed = pton(address);
  if (!parsed) return null;
  const b = parsed.bytes;
  const mapped = b.length === 16 && b.subarray(0, 10).every((x) => x === 0) &&
    b[10] === 0xff && b[11] === 0xff;
  return mapped ? b.subarray(12) : b;
}

/** True when `address` lies in `prefix`. */
export function inPrefix(address: string, prefix: Prefix): boolean {
  const bytes = addressBytes(address);
  if (!bytes || bytes.length !== prefix.bytes.length) return false;
  const full = prefix.bits >> 3;
  for (let i = 0; i < full; i++) if (bytes[i] !== prefix.bytes[i]) return false;
  const rest = prefix.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (bytes[full] & mask) === (prefix.bytes[full] & mask);
}

function comparePort(port: number, op: PortOp, want: number): boolean {
  switch (op) {
    case "eq":
      return port === want;
    case "ne":
      return port !== want;
    case "lt":
      return port < want;
    case "gt":
      return port > want;
    case "le":
      return port <= want;
    case "ge":
      return port >= want;
  }
}

/** True when `row` passes `filter` (null passes everything). */
export function matches(filter: Filter | null, row: FilterRow): boolean {
  if (filter === null) return true;
  switch (filter.kind) {
    case "and":
      return matches(filter.left, row) && matches(filter.right, row);
    case "or":
      return matches(filter.left, row) || matches(filter.right, row);
    case "not":
      return !matches(filter.inner, row);
    case "port":
      return comparePort(row[filter.side].port, filter.op, filter.port);
    case "host": {
      const ep = row[filter.side];
      const hit = (filter.prefix === null || inPrefix(ep.address, filter.prefix)) &&
        (filter.port === null || ep.port === filter.port);
      return filter.negate ? !hit : hit;
    }
    case "state":
      return (row.state ?? "UNCONN") === filter.state;
  }
}
