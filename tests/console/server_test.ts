import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { ConsoleHub, type HubOptions } from "../../lib/console/hub.ts";
import { TimedMonitor } from "../../lib/console/timed_monitor.ts";
import { parsePrometheusText } from "./prom_parser.ts";
import { serveConsole } from "./serve_console.ts";

async function withConsole(
  services: number,
  options: HubOptions,
  fn: (base: string, hub: ConsoleHub, monitors: TimedMonitor[]) => Promise<void>,
): Promise<void> {
  const hub = new ConsoleHub(options);
  const monitors = Array.from({ length: services }, (_, i) => {
    const monitor = new TimedMonitor(`service-${i}`);
    hub.add({ label: `service-${i}`, transport: "udp", address: `127.0.0.1:${1000 + i}`, monitor });
    return monitor;
  });
  await using server = await serveConsole(hub);
  await fn(server.url, hub, monitors);
}

Deno.test("the console serves one small page with a CSP that allows only its own script and style", async () => {
  await withConsole(1, {}, async (base) => {
    const res = await fetch(base);
    const html = await res.text();
    assertEquals(res.status, 200);
    assertEquals(res.headers.get("content-type"), "text/html; charset=utf-8");
    const csp = res.headers.get("content-security-policy") ?? "";
    assertMatch(
      csp,
      /^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+'; style-src 'sha256-/,
    );
    assertEquals(res.headers.get("x-content-type-options"), "nosniff");
    assertOk(new TextEncoder().encode(html).byteLength < 16 * 1024, `${html.length} bytes`);
    assertOk(!/https?:\/\/(?!www\.w3\.org\/2000\/svg)/.test(html), "no external URL (CDN, fonts)");
    assertOk(
      !html.includes("innerHTML") && !html.includes("insertAdjacentHTML"),
      "no markup from data",
    );
  });
});

Deno.test("the console is read-only, answers loopback Host names only, and 404s the rest", async () => {
  await withConsole(1, {}, async (base) => {
    const post = await fetch(`${base}metrics`, { method: "POST", body: "x" });
    assertEquals([post.status, post.headers.get("allow")], [405, "GET, HEAD"]);
    await post.body?.cancel();
    const missing = await fetch(`${base}etc/passwd`);
    assertEquals(missing.status, 404);
    await missing.body?.cancel();
    // A page on another site that rebinds its name to 127.0.0.1 sends its own Host.
    const port = new URL(base).port;
    using conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
    await conn.write(
      new TextEncoder().encode(
        "GET /metrics HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
      ),
    );
    const reply = await new Response(conn.readable).text();
    assertMatch(reply, /^HTTP\/1\.1 421 /);
    const local = await fetch(`http://localhost:${port}/metrics`).catch(() => undefined);
    if (local) {
      assertEquals(local.status, 200, "localhost is loopback");
      await local.body?.cancel();
    }
  });
});

Deno.test("/metrics parses strictly and its counters follow the monitors", async () => {
  await withConsole(2, {}, async (base, _hub, monitors) => {
    const scrape = async () => {
      const res = await fetch(`${base}metrics`);
      assertEquals(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
      return parsePrometheusText(await res.text());
    };
    const before = await scrape();
    const requests = (fams: typeof before) =>
      fams.get("socklab_requests_total")!.samples.map((s) => [s.labels.service, s.value]);
    assertEquals(requests(before), [["service-0", 0], ["service-1", 0]]);
    for (let i = 0; i < 7; i++) monitors[1].served(2, i === 0, "127.0.0.1:9", "ERR no");
    const after = await scrape();
    assertEquals(requests(after), [["service-0", 0], ["service-1", 7]]);
    const sum = after.get("socklab_service_time_seconds")!.samples.find((s) =>
      s.name.endsWith("_sum") && s.labels.service === "service-1"
    );
    assertEquals(sum?.value, 0.014);
  });
});

Deno.test("the event stream starts with a retry delay and a snapshot, then ticks", async () => {
  await withConsole(1, { tickMs: 50 }, async (base) => {
    const res = await fetch(`${base}events`);
    assertEquals(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("event: tick\n")) text += (await reader.read()).value ?? "";
    await reader.cancel();
    assertMatch(text, /^retry: 1000\n\nevent: snapshot\ndata: \{"tickMs":50,/);
  });
});

Deno.test("a browser that stops reading is dropped once its queue is full; the others are not", async () => {
  // 100 services ticking every 10 ms: ~2 MB/s of events, so the kernel's socket
  // buffers fill in about a second and the console's 64 KiB queue right after.
  await withConsole(100, { tickMs: 10, maxQueuedBytes: 64 * 1024 }, async (base, hub) => {
    const port = Number(new URL(base).port);
    using stuck = await Deno.connect({ hostname: "127.0.0.1", port });
    await stuck.write(new TextEncoder().encode("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    const reader = (await fetch(`${base}events`)).body!.getReader();
    const deadline = Date.now() + 20_000;
    let received = 0;
    while (hub.droppedClients === 0 && Date.now() < deadline) {
      received += (await reader.read()).value?.byteLength ?? 0; // the live browser keeps up
    }
    assertEquals(hub.droppedClients, 1, "the stuck browser was dropped");
    assertEquals(hub.clientCount, 1, "the reading browser still listens");
    assertOk(received > 64 * 1024, `the reading browser got ${received} bytes`);
    await reader.cancel();
    // What the stuck socket still holds ends: the console closed its side.
    const buf = new Uint8Array(1 << 16);
    let n: number | null = 0;
    for (let i = 0; i < 10_000 && n !== null; i++) n = await stuck.read(buf).catch(() => null);
    assertEquals(n, null);
  });
});

Deno.test("stopping the console ends open event streams (shutdown does not wait for browsers)", async () => {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  await withConsole(1, {}, async (base) => {
    reader = (await fetch(`${base}events`)).body!.getReader();
    await reader.read();
  });
  let done = false;
  while (!done) done = (await reader!.read().catch(() => ({ done: true }))).done;
});
