import { assertEquals, assertOk, throws } from "../helpers/assert.ts";
import {
  escapeHelp,
  escapeLabelValue,
  formatMetrics,
  formatValue,
  histogramSamples,
} from "../../lib/console/metrics.ts";
import { labMetrics, type ServiceCounters } from "../../lib/console/lab_metrics.ts";
import { LATENCY_BOUNDS_MS } from "../../lib/net/monitor.ts";
import { parsePrometheusText, PromSyntaxError } from "./prom_parser.ts";

Deno.test("the strict parser rejects what Prometheus would reject or misread", () => {
  const bad: [string, RegExp][] = [
    ["a 1", /does not end with LF/],
    ['a{b="x"} \n', /bad value ""|expected/],
    ['a{b="x\\t"} 1\n', /bad escape/],
    ['a{b="x",} 1\n', /trailing comma/],
    ['a{b="x",b="y"} 1\n', /label b twice/],
    ['a{__x="y"} 1\n', /reserved label/],
    ["a{b=x} 1\n", /bad label/],
    ["1a 1\n", /bad metric name/],
    ["a 1 2 3\n", /expected/],
    ["a  1\n", /expected/],
    ["a one\n", /bad value/],
    ["a 1\r\n", /carriage return/],
    ["# HELP a x\\y\na 1\n", /bad escape/],
    ["# TYPE a counter\n# TYPE a counter\na 1\n", /second TYPE/],
    ["# HELP a x\n# HELP a y\na 1\n", /second HELP/],
    ["a 1\n# TYPE a counter\n", /after its samples/],
    ["# TYPE a countr\na 1\n", /bad type/],
    ['a 1\nb 1\na{x="1"} 2\n', /not contiguous/],
    ["a 1\na 2\n", /twice/],
    ["# TYPE a counter\na -1\n", /counter value -1/],
    ['# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n', /no le="\+Inf"/],
    [
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
      /counts fall/,
    ],
    ['# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_count 1\n', /no _sum/],
    ['# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n', /!= _count/],
  ];
  for (const [text, why] of bad) {
    throws(() => parsePrometheusText(text), why, PromSyntaxError);
  }
});

Deno.test("the strict parser reads labels, escapes, special values and timestamps", () => {
  const text =
    '# HELP a Says \\\\ and\\nmore.\n# TYPE a gauge\na{x="q\\"\\\\\\n"} +Inf 1700000000000\n' +
    "b NaN\nc -1.5e-3\n";
  const fams = parsePrometheusText(text);
  assertEquals(fams.get("a")?.help, "Says \\ and\nmore.");
  assertEquals(fams.get("a")?.samples, [{
    name: "a",
    labels: { x: 'q"\\\n' },
    value: Infinity,
    timestamp: 1700000000000,
  }]);
  assertOk(Number.isNaN(fams.get("b")?.samples[0].value));
  assertEquals(fams.get("c")?.samples[0].value, -0.0015);
});

Deno.test("formatMetrics() escapes label values and HELP text so they parse back exactly", () => {
  const hostile = 'a"b\\c\nd <img src=x onerror=alert(1)>';
  assertEquals(escapeLabelValue(hostile), 'a\\"b\\\\c\\nd <img src=x onerror=alert(1)>');
  assertEquals(escapeHelp('x\\y\n"z"'), 'x\\\\y\\n"z"');
  const text = formatMetrics([{
    name: "requests_total",
    help: "Requests \\ served\nby service.",
    type: "counter",
    samples: [{ labels: { service: hostile }, value: 7 }],
  }]);
  const fam = parsePrometheusText(text).get("requests_total")!;
  assertEquals(fam.help, "Requests \\ served\nby service.");
  assertEquals(fam.samples[0].labels.service, hostile);
  assertEquals(fam.samples[0].value, 7);
});

Deno.test("formatMetrics() refuses names the format cannot carry", () => {
  throws(
    () => formatMetrics([{ name: "bad-name", help: "", type: "gauge", samples: [] }]),
    /metric name "bad-name"/,
    SyntaxError,
  );
  throws(
    () =>
      formatMetrics([{
        name: "a",
        help: "",
        type: "gauge",
        samples: [{ labels: { "x-y": "" }, value: 1 }],
      }]),
    /label name "x-y"/,
    SyntaxError,
  );
});

Deno.test("formatValue() writes the format's special values", () => {
  assertEquals([1, 0.25, 1e-6, Infinity, -Infinity, NaN].map(formatValue), [
    "1",
    "0.25",
    "0.000001",
    "+Inf",
    "-Inf",
    "NaN",
  ]);
});

Deno.test("histogramSamples() makes cumulative buckets ending in +Inf equal to _count", () => {
  const s = histogramSamples({ service: "x" }, [0.001, 0.01], [2, 3, 1], 0.5);
  assertEquals(s.map((x) => [x.suffix, x.labels?.le, x.value]), [
    ["_bucket", "0.001", 2],
    ["_bucket", "0.01", 5],
    ["_bucket", "+Inf", 6],
    ["_sum", undefined, 0.5],
    ["_count", undefined, 6],
  ]);
});

function counters(label: string, requests: number, errors: number): ServiceCounters {
  const latency = Array(LATENCY_BOUNDS_MS.length + 1).fill(0);
  latency[3] = requests - 1;
  latency[LATENCY_BOUNDS_MS.length] = 1; // one above the last bound
  return {
    label,
    transport: "udp",
    address: "127.0.0.1:1502",
    up: true,
    requests,
    errors,
    latency,
    totalMs: 2000,
  };
}

Deno.test("the lab's exposition parses strictly, with _total counters and a histogram per service", () => {
  const text = formatMetrics(labMetrics(
    [counters("rates-server", 10, 2), { ...counters('exec-server "2"', 4, 0), up: false }],
    [
      {
        kind: "chat",
        service: "chat-server",
        members: [],
        count: 3,
        lines: 42,
        lineRate: 1,
        droppedSlow: 1,
        droppedDead: 2,
      },
      { kind: "binder", service: "binder", commands: [], count: 12 },
      { kind: "registry", service: "registry-server", names: [], count: 5 },
    ],
    { listening: 2, dropped: 1 },
  ));
  const fams = parsePrometheusText(text);
  for (const fam of fams.values()) {
    assertOk(fam.help && fam.help.length > 0, `${fam.name} has HELP`);
    if (fam.type === "counter") assertOk(fam.name.endsWith("_total"), fam.name);
  }
  const value = (name: string, labels: Record<string, string>) =>
    [...fams.values()].flatMap((f) => f.samples).find((s) =>
      s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels)
    )?.value;
  assertEquals(value("socklab_requests_total", { service: "rates-server" }), 10);
  assertEquals(value("socklab_error_replies_total", { service: "rates-server" }), 2);
  assertEquals(value("socklab_service_up", { service: 'exec-server "2"' }), 0);
  assertEquals(value("socklab_chat_members", { service: "chat-server" }), 3);
  assertEquals(value("socklab_chat_lines_total", { service: "chat-server" }), 42);
  assertEquals(value("socklab_chat_dropped_total", { service: "chat-server", reason: "dead" }), 2);
  assertEquals(value("socklab_binder_records", { service: "binder" }), 12);
  assertEquals(value("socklab_registry_names", { service: "registry-server" }), 5);
  assertEquals(value("socklab_console_browsers", {}), 2);
  const hist = fams.get("socklab_service_time_seconds")!;
  assertEquals(hist.type, "histogram");
  assertEquals(value("socklab_service_time_seconds_count", { service: "rates-server" }), 10);
  assertEquals(value("socklab_service_time_seconds_sum", { service: "rates-server" }), 2);
  assertEquals(
    value("socklab_service_time_seconds_bucket", { service: "rates-server", le: "0.00005" }),
    9,
  );
  assertEquals(
    value("socklab_service_time_seconds_bucket", { service: "rates-server", le: "1" }),
    9,
    "the one slow request is above the last bound",
  );
});
