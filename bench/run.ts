/**
 * `deno task bench`: every side-by-side benchmark in one run, one table
 * (name | socklab | peer | ratio | goal | met), written to bench/RESULTS.md
 * with the date, the machine (cores, CPU, kernel) and the Deno/V8 versions, so
 * the README can show current figures.
 *
 * ```sh
 * deno task bench                              # every module, writes bench/RESULTS.md
 * deno task bench --only startup               # one module, prints only
 * deno task bench --only startup --out /tmp/r.md
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import type { BenchRow } from "./types.ts";
import { printRows, rowsTable } from "./table.ts";
import * as startup from "./startup.ts";
import * as lookup from "./lookup.ts";
import * as nc from "./nc.ts";
import * as udpServices from "./udp_services.ts";
import * as binder from "./binder.ts";
import * as chat from "./chat.ts";
import * as generator from "./generator.ts";
import * as scaleout from "./scaleout.ts";

/** One benchmark module: a name for `--only` and its `run()`. */
export interface BenchModule {
  name: string;
  /** What it compares, for `--list`. */
  about: string;
  run(): Promise<BenchRow[]>;
}

/** The modules by their `--only` name, in table order; each says what it compares in `ABOUT`. */
const BY_NAME = {
  startup,
  lookup,
  nc,
  udp_services: udpServices,
  binder,
  chat,
  scaleout,
  generator,
};

/** Every module, in the order the table shows them. */
export const MODULES: readonly BenchModule[] = Object.entries(BY_NAME).map(([name, m]) => ({
  name,
  about: m.ABOUT,
  run: () => m.run(),
}));

const DEFAULT_OUT = fileURLToPath(new URL("./RESULTS.md", import.meta.url));

/** The machine and runtime, for the results' heading. */
export function machineInfo(): Record<string, string> {
  const read = (path: string) => {
    try {
      return Deno.readTextFileSync(path);
    } catch {
      return "";
    }
  };
  const cpu = /^model name\s*:\s*(.+)$/m.exec(read("/proc/cpuinfo"))?.[1]?.trim() ?? "unknown CPU";
  const memKiB = Number(/^MemTotal:\s+(\d+)/m.exec(read("/proc/meminfo"))?.[1] ?? 0);
  return {
    cores: String(navigator.hardwareConcurrency),
    cpu,
    kernel: read("/proc/sys/kernel/osrelease").trim() || Deno.build.os,
    memory: memKiB ? `${(memKiB / 1024 / 1024).toFixed(1)} GiB` : "unknown",
    load: read("/proc/loadavg").split(" ").slice(0, 3).join(" ") || "unknown",
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
  };
}

/** A row for a module that threw: it counts as a missed goal, with the reason. */
function failedRow(module: BenchModule, err: unknown): BenchRow {
  const reason = (err instanceof Error ? err.message : String(err)).split("\n")[0];
  return {
    name: `${module.name} (failed)`,
    socklab: `error: ${reason}`,
    peer: "-",
    ratio: "-",
    goal: "runs",
    met: false,
  };
}

/** The Markdown document written to RESULTS.md. */
export function resultsMarkdown(
  rows: readonly BenchRow[],
  info: Record<string, string>,
  meta: { date: Date; seconds: number; modules: readonly string[] },
): string {
  const met = rows.filter((r) => r.met).length;
  const goals = rows.filter((r) => r.met !== undefined).length;
  return [
    "# socklab benchmark results",
    "",
    `Written by \`deno task bench\` (bench/run.ts) on ${
      meta.date.toISOString().replace("T", " ").slice(0, 16)
    } UTC in ${meta.seconds.toFixed(0)} s. Every figure beside its peer comes from the same run.`,
    "",
    `- Machine: ${info.cores} cores (${info.cpu}), ${info.memory} RAM, Linux kernel ${info.kernel}`,
    `- Load average when the run started: ${info.load}`,
    `- Deno ${info.deno}, V8 ${info.v8}, TypeScript ${info.typescript}`,
    `- Modules: ${meta.modules.join(", ")}`,
    "",
    ...rowsTable(rows, true),
    "",
    `${met} of ${goals} goals met.`,
    "",
  ].join("\n");
}

/** Runs `modules` one after another; a module that throws becomes a failed row. */
export async function runModules(
  modules: readonly BenchModule[],
  onStart: (m: BenchModule) => void = () => {},
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const m of modules) {
    onStart(m);
    try {
      rows.push(...await m.run());
    } catch (err) {
      rows.push(failedRow(m, err));
    }
  }
  return rows;
}

async function main(args: string[]): Promise<number> {
  const usage = "usage: deno task bench [--only NAME] [--out FILE] [--list]";
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        only: { type: "string", multiple: true },
        out: { type: "string" },
        list: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    console.error(`bench: ${(err as Error).message}\n${usage}`);
    return 2;
  }
  if (values.help || values.list) {
    console.log(usage);
    for (const m of MODULES) console.log(`  ${m.name.padEnd(14)} ${m.about}`);
    return 0;
  }
  const only = values.only ?? [];
  const unknown = only.filter((n) => !MODULES.some((m) => m.name === n));
  if (unknown.length) {
    console.error(
      `bench: unknown module "${unknown[0]}" (known: ${MODULES.map((m) => m.name).join(", ")})`,
    );
    return 2;
  }
  const modules = only.length ? MODULES.filter((m) => only.includes(m.name)) : MODULES;
  // A partial run never overwrites the full results unless asked to.
  const out = values.out ?? (only.length ? undefined : DEFAULT_OUT);
  const info = machineInfo();
  const date = new Date();
  const t0 = performance.now();
  const rows = await runModules(modules, (m) => console.error(`bench: running ${m.name} ...`));
  const seconds = (performance.now() - t0) / 1000;
  printRows(rows);
  console.log(
    `\n${rows.filter((r) => r.met).length} of ${
      rows.filter((r) => r.met !== undefined).length
    } goals met (${seconds.toFixed(0)} s)`,
  );
  if (out) {
    await Deno.writeTextFile(
      out,
      resultsMarkdown(rows, info, { date, seconds, modules: modules.map((m) => m.name) }),
    );
    console.error(`bench: wrote ${out}`);
  }
  return rows.some((r) => r.name.endsWith("(failed)")) ? 1 : 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
