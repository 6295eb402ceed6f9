import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { machineInfo, MODULES, resultsMarkdown, runModules } from "../../bench/run.ts";
import type { BenchRow } from "../../bench/types.ts";

const row = (name: string, met: boolean): BenchRow => ({
  name,
  socklab: "48,000 req/s",
  peer: "C udp_echo 96,000 req/s",
  ratio: "0.50×",
  goal: "≥ 0.5× C",
  met,
});

Deno.test("runModules() turns a module that throws into a failed row and runs the next", async () => {
  const rows = await runModules([
    {
      name: "broken",
      about: "",
      run: () => Promise.reject(new Error("udp_load failed: boom\nmore")),
    },
    { name: "fine", about: "", run: () => Promise.resolve([row("fine", true)]) },
  ]);
  assertEquals(rows.map((r) => [r.name, r.met]), [["broken (failed)", false], ["fine", true]]);
  assertEquals(rows[0].socklab, "error: udp_load failed: boom");
});

Deno.test("resultsMarkdown() heads the table with the date, machine and versions, and counts goals met", () => {
  const md = resultsMarkdown(
    [row("rates-server, 64 in flight", true), row("a | b", false)],
    {
      cores: "2",
      cpu: "Test CPU",
      memory: "4.0 GiB",
      kernel: "6.1.0",
      load: "0.10 0.20 0.30",
      deno: "2.9.6",
      v8: "13.0",
      typescript: "5.6",
    },
    { date: new Date("2026-11-25T08:02:11Z"), seconds: 95.4, modules: ["udp_services"] },
  );
  assertMatch(md, /on 2026-11-25 08:02 UTC in 95 s/);
  assertMatch(md, /^- Machine: 2 cores \(Test CPU\), 4\.0 GiB RAM, Linux kernel 6\.1\.0$/m);
  assertMatch(md, /^- Deno 2\.9\.6, V8 13\.0, TypeScript 5\.6$/m);
  assertMatch(md, /^\| name +\| socklab +\| peer +\| ratio \| goal +\| met \|$/m);
  assertMatch(md, /^\| a \\\| b +\|/m, "a | in a cell is escaped");
  assertMatch(md, /^1 of 2 goals met\.$/m);
});

Deno.test("machineInfo() reads cores and the kernel from /proc", () => {
  const info = machineInfo();
  assertEquals(info.cores, String(navigator.hardwareConcurrency));
  assertEquals(info.kernel, Deno.readTextFileSync("/proc/sys/kernel/osrelease").trim());
  assertEquals(info.deno, Deno.version.deno);
});

Deno.test("every benchmark module has a unique name for --only", () => {
  const names = MODULES.map((m) => m.name);
  assertEquals(new Set(names).size, names.length);
  assertOk(names.includes("startup"));
});
