/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4),
 * for the tests: it accepts what Prometheus' own text parser accepts for the
 * metric types we use and rejects anything doubtful, then checks the rules a
 * scraper relies on across lines.
 *
 * Per line: `# HELP name text` (escapes `\\` `\n` only), `# TYPE name
 * counter|gauge|histogram|summary|untyped`, other `#` comments, or a sample
 * `name[{l="v",...}] value [timestamp]` (label escapes `\\` `\"` `\n` only,
 * values Go floats or `+Inf`/`-Inf`/`NaN`). Across lines: every line ends with
 * LF; at most one HELP and one TYPE per family, TYPE before its samples; a
 * family's samples are contiguous; no series twice; counters are non-negative;
 * a histogram's buckets have `le`, rise with `le`, end with `+Inf`, and the
 * `+Inf` bucket equals `_count`, with `_sum` present.
 *
 * Written here because no npm package is a strict validator: the parsers on
 * npm are lenient readers of scrapes, and Prometheus' own (`promtool check
 * metrics`) is a Go binary outside our peers.
 * @module
 */

/** One sample line. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestamp?: number;
}

/** One metric family. */
export interface PromFamily {
  name: string;
  type: string;
  help?: string;
  samples: PromSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

const FLOAT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Inf|inf)$|^NaN$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

/** A parse error naming the line. */
export class PromSyntaxError extends SyntaxError {
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
  }
}

function parseFloatStrict(text: string, line: number): number {
  if (!FLOAT.test(text)) throw new PromSyntaxError(line, `bad value "${text}"`);
  if (text === "NaN") return NaN;
  if (/inf$/i.test(text)) return text.startsWith("-") ? -Infinity : Infinity;
  return Number(text);
}

function unescape(text: string, allowed: string, line: number): string {
  return text.replace(/\\(.)/gs, (_, c: string) => {
    if (!allowed.includes(c)) throw new PromSyntaxError(line, `bad escape "\\${c}"`);
    return c === "n" ? "\n" : c;
  });
}

/** Parses `{a="x",b="y"}` starting at `text[0] === "{"`; returns the labels and the rest. */
function parseLabels(text: string, line: number): [Record<string, string>, string] {
  const labels: Record<string, string> = {};
  let rest = text.slice(1);
  while (!rest.startsWith("}")) {
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"/.exec(rest);
    if (!m) throw new PromSyntaxError(line, `bad label at "${rest.slice(0, 20)}"`);
    if (m[1].startsWith("__")) throw new PromSyntaxError(line, `reserved label name ${m[1]}`);
    if (m[1] in labels) throw new PromSyntaxError(line, `label ${m[1]} twice`);
    labels[m[1]] = unescape(m[2], '\\"n', line);
    rest = rest.slice(m[0].length);
    if (rest.startsWith(",")) {
      rest = rest.slice(1);
      if (rest.startsWith("}")) throw new PromSyntaxError(line, "trailing comma in labels");
    } else if (!rest.startsWith("}")) {
      throw new PromSyntaxError(line, `expected "," or "}" at "${rest.slice(0, 20)}"`);
    }
  }
  return [labels, rest.slice(1)];
}

function parseSample(text: string, line: number): PromSample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(text);
  if (!m) throw new PromSyntaxError(line, `bad metric name in "${text.slice(0, 30)}"`);
  let rest = text.slice(m[1].length);
  let labels: Record<string, string> = {};
  if (rest.startsWith("{")) [labels, rest] = parseLabels(rest, line);
  const parts = rest.split(" ");
  if (parts[0] !== "" || parts.length < 2 || parts.length > 3 || parts.includes("", 1)) {
    throw new PromSyntaxError(line, `expected " VALUE [TIMESTAMP]" after the name, got "${rest}"`);
  }
  const sample: PromSample = { name: m[1], labels, value: parseFloatStrict(parts[1], line) };
  if (parts[2] !== undefined) {
    if (!/^-?\d+$/.test(parts[2])) throw new PromSyntaxError(line, `bad timestamp "${parts[2]}"`);
    sample.timestamp = Number(parts[2]);
  }
  return sample;
}

/** The family a sample name belongs to, given the declared types. */
function familyOf(name: string, types: Map<string, string>): string {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    const base = name.endsWith(suffix) ? name.slice(0, -suffix.length) : undefined;
    if (base && (types.get(base) === "histogram" || types.get(base) === "summary")) return base;
  }
  return name;
}

function parseComment(
  text: string,
  n: number,
  families: Map<string, PromFamily>,
  types: Map<string, string>,
  sampled: Set<string>,
): void {
  const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(text);
  if (!m) return; // a plain comment
  const [, kind, name, arg = ""] = m;
  if (!NAME.test(name)) throw new PromSyntaxError(n, `bad metric name "${name}"`);
  const fam = families.get(name) ?? { name, type: "untyped", samples: [] };
  families.set(name, fam);
  if (kind === "HELP") {
    if (fam.help !== undefined) throw new PromSyntaxError(n, `second HELP for ${name}`);
    fam.help = unescape(arg, "\\n", n);
    return;
  }
  if (!TYPES.has(arg)) throw new PromSyntaxError(n, `bad type "${arg}"`);
  if (types.has(name)) throw new PromSyntaxError(n, `second TYPE for ${name}`);
  if (sampled.has(name)) throw new PromSyntaxError(n, `TYPE for ${name} after its samples`);
  types.set(name, arg);
  fam.type = arg;
}

/** Parses and checks an exposition; throws PromSyntaxError naming the first problem. */
export function parsePrometheusText(text: string): Map<string, PromFamily> {
  if (text !== "" && !text.endsWith("\n")) {
    throw new PromSyntaxError(0, "the last line does not end with LF");
  }
  const families = new Map<string, PromFamily>();
  const types = new Map<string, string>();
  const sampled = new Set<string>();
  const series = new Set<string>();
  let current: string | undefined;
  text.slice(0, -1).split("\n").forEach((raw, i) => {
    const n = i + 1;
    if (raw.includes("\r")) throw new PromSyntaxError(n, "carriage return");
    if (raw.trim() === "") return;
    if (raw.startsWith("#")) return parseComment(raw, n, families, types, sampled);
    const sample = parseSample(raw, n);
    const family = familyOf(sample.name, types);
    if (family !== current && sampled.has(family)) {
      throw new PromSyntaxError(n, `samples of ${family} are not contiguous`);
    }
    current = family;
    sampled.add(family);
    const key = sample.name + JSON.stringify(Object.entries(sample.labels).sort());
    if (series.has(key)) throw new PromSyntaxError(n, `series ${key} twice`);
    series.add(key);
    const fam = families.get(family) ?? { name: family, type: "untyped", samples: [] };
    families.set(family, fam);
    fam.samples.push(sample);
  });
  for (const fam of families.values()) checkFamily(fam);
  return families;
}

function checkFamily(fam: PromFamily): void {
  const fail = (why: string) => {
    throw new PromSyntaxError(0, `${fam.name}: ${why}`);
  };
  if (fam.type === "counter") {
    for (const s of fam.samples) if (!(s.value >= 0)) fail(`counter value ${s.value}`);
  }
  if (fam.type !== "histogram") return;
  const bySeries = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const s of fam.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const h = bySeries.get(key) ?? { buckets: [] };
    bySeries.set(key, h);
    if (s.name === `${fam.name}_bucket`) {
      if (le === undefined) fail("a bucket without le");
      h.buckets.push([parseFloatStrict(le, 0), s.value]);
    } else if (s.name === `${fam.name}_sum`) h.sum = s.value;
    else if (s.name === `${fam.name}_count`) h.count = s.value;
    else fail(`sample ${s.name} in a histogram`);
  }
  for (const [key, h] of bySeries) {
    if (h.sum === undefined || h.count === undefined) fail(`${key}: no _sum or _count`);
    const last = h.buckets.at(-1);
    if (!last || last[0] !== Infinity) fail(`${key}: no le="+Inf" bucket last`);
    if (last![1] !== h.count) fail(`${key}: +Inf bucket ${last![1]} != _count ${h.count}`);
    h.buckets.forEach(([le, v], i) => {
      if (i > 0 && !(le > h.buckets[i - 1][0])) fail(`${key}: le not rising at ${le}`);
      if (i > 0 && v < h.buckets[i - 1][1]) fail(`${key}: bucket counts fall at le=${le}`);
    });
  }
}
