import { assertEquals } from "../helpers/assert.ts";
import { type ServiceEvent, ServiceMonitor } from "../../lib/net/monitor.ts";

Deno.test("ServiceMonitor counts requests, errors and service-time buckets", () => {
  const m = new ServiceMonitor("rates-server");
  m.served(0.004, false);
  m.served(0.3, false);
  m.served(5000, true, "127.0.0.1:1", "ERR unknown currency");
  assertEquals([m.requests, m.errors], [3, 1]);
  assertEquals([m.latency[0], m.latency[6], m.latency.at(-1)], [1, 1, 1]);
});

Deno.test("ServiceMonitor tells subscribers about events and error replies", () => {
  const m = new ServiceMonitor("chat-server");
  const seen: ServiceEvent[] = [];
  const stop = m.subscribe((e) => seen.push(e));
  m.event("signin", "alice", "127.0.0.1:2");
  m.served(1, true, "127.0.0.1:3", "ERR name taken");
  stop();
  m.event("signout", "alice");
  assertEquals(seen.map((e) => [e.kind, e.text, e.peer]), [
    ["signin", "alice", "127.0.0.1:2"],
    ["error", "ERR name taken", "127.0.0.1:3"],
  ]);
});

Deno.test("ServiceMonitor returns the state its service registered", () => {
  const m = new ServiceMonitor("registry-server");
  assertEquals(m.state(), undefined);
  m.setState(() => ({ kind: "registry", names: ["a", "b"] }));
  assertEquals(m.state(), { kind: "registry", names: ["a", "b"] });
});
