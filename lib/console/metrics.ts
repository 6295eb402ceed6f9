/**
 * `/metrics` of the lab console in the Prometheus text exposition format
 * (version 0.0.4), as pure code: metric families with `# HELP` and `# TYPE`,
 * counters ending in `_total`, the service time as a histogram in seconds.
 *
 * ```text
 * exposition = *( family )
 * family     = "# HELP " name SP help LF "# TYPE " name SP type LF 1*( sample )
 * sample     = name [ "{" label *( "," label ) "}" ] SP value LF
 * label      = lname "=" DQUOTE escaped DQUOTE     ; \\ \" \n escaped
 * value      = float / "+Inf" / "-Inf" / "NaN"
 * ```
 *
 * @example
 * ```ts
 * import { formatMetrics } from "./metrics.ts";
 * const text = formatMetrics([{
 *   name: "requests_total", help: "Requests served.", type: "counter",
 *   samples: [{ labels: { service: 'a"b' }, value: 3 }],
 * }]);
 * console.assert(text.includes('requests_total{service="a\\"b"} 3\n'));
 * ```
 * @module
 */

/** A metric family's type (the subset this exporter uses). */
export type MetricType = "counter" | "gauge" | "histogram";

/** One line of a family: an optional name suffix (`_bucket`, `_sum`, ...), labels, value. */
export interface MetricSample {
  suffix?: string;
  labels?: Record<string, string>;
  value: number;
}

/** One metric family. */
export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: MetricSample[];
}

/** The `Content-Type` of the format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A label value with `\`, `"` and newlines escaped as the format asks. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** HELP text with `\` and newlines escaped (quotes stay as they are there). */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** A sample value: integers and floats as JavaScript prints them, `+Inf`, `-Inf`, `NaN`. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function formatLabels(labels: Record<string, string> | undefined): string {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) return "";
  const parts = entries.map(([k, v]) => {
    if (!LABEL_RE.test(k) || k.startsWith("__")) {
      throw new SyntaxError(`Cannot use label name "${k}" in the Prometheus format`);
    }
    return `${k}="${escapeLabelValue(v)}"`;
  });
  return `{${parts.join(",")}}`;
}

/** The exposition of `families`, in the given order; every line ends with LF. */
export function formatMetrics(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const f of families) {
    if (!NAME_RE.test(f.name)) {
      throw new SyntaxError(`Cannot use metric name "${f.name}" in the Prometheus format`);
    }
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      lines.push(`${f.name}${s.suffix ?? ""}${formatLabels(s.labels)} ${formatValue(s.value)}`);
    }
  }
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}

/**
 * The samples of one histogram series: cumulative `_bucket` lines for each
 * upper bound and `+Inf`, then `_sum` and `_count`. `counts` has one entry per
 * bound plus one for "above the last bound" (as ServiceMonitor keeps them).
 */
export function histogramSamples(
  labels: Record<string, string>,
  bounds: readonly number[],
  counts: readonly number[],
  sum: number,
): MetricSample[] {
  const samples: MetricSample[] = [];
  let cumulative = 0;
  bounds.forEach((le, i) => {
    cumulative += counts[i] ?? 0;
    samples.push({
      suffix: "_bucket",
      labels: { ...labels, le: formatValue(le) },
      value: cumulative,
    });
  });
  cumulative += counts[bounds.length] ?? 0;
  samples.push({ suffix: "_bucket", labels: { ...labels, le: "+Inf" }, value: cumulative });
  samples.push({ suffix: "_sum", labels, value: sum });
  samples.push({ suffix: "_count", labels, value: cumulative });
  return samples;
}
