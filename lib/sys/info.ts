/**
 * `socklab info`: what the lab sheet's whoami, hostname, arch and uname show,
 * plus the runtime's versions and the CPU count, as text or one JSON document.
 *
 * ```sh
 * socklab info
 * socklab info --json
 * ```
 * @module
 */
import os from "node:os";
import denoJson from "../../deno.json" with { type: "json" };
import type { CommandContext } from "../cli/command.ts";
import { parseFlags } from "../cli/flags.ts";
import { formatJson, writeOut } from "../cli/output.ts";

const USAGE = "usage: socklab info [--json]";
const ABOUT = `Shows the user (whoami), host name, architecture (arch), operating system,
kernel, socklab/Deno/V8/TypeScript versions and CPU count.`;

/** Everything `info` reports. */
export interface MachineInfo {
  user: string;
  uid: number | null;
  hostname: string;
  arch: string;
  /** Kernel name as `uname -s` prints it (Linux, Darwin, Windows_NT). */
  kernel: string;
  /** Kernel release as `uname -r` prints it. */
  kernelRelease: string;
  /** The distribution's name (`/etc/os-release` PRETTY_NAME) or the OS family. */
  os: string;
  cpus: number;
  cpuModel: string | null;
  memoryBytes: number | null;
  uptimeSeconds: number | null;
  versions: { socklab: string; deno: string; v8: string; typescript: string };
}

const KERNEL_NAMES: Readonly<Record<string, string>> = {
  linux: "Linux",
  darwin: "Darwin",
  windows: "Windows_NT",
  freebsd: "FreeBSD",
  netbsd: "NetBSD",
  android: "Linux",
};

/** PRETTY_NAME (or NAME) from the text of `/etc/os-release`; null when absent. */
export function parseOsRelease(text: string): string | null {
  const fields = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let value = m[2];
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1).replace(/\\(.)/g, "$1");
    fields.set(m[1], value);
  }
  return fields.get("PRETTY_NAME") ?? fields.get("NAME") ?? null;
}

function tryOr<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

/** Collects the machine's facts (every one falls back rather than failing). */
export function collectInfo(): MachineInfo {
  const user = tryOr(() => os.userInfo().username, "") ||
    Deno.env.get("USER") || Deno.env.get("USERNAME") || "?";
  const osName = tryOr(() => parseOsRelease(Deno.readTextFileSync("/etc/os-release")), null) ??
    Deno.build.os;
  const cpus = navigator.hardwareConcurrency || tryOr(() => os.cpus().length, 1);
  return {
    user,
    uid: tryOr(() => Deno.uid(), null),
    hostname: tryOr(() => Deno.hostname(), "?"),
    arch: Deno.build.arch,
    kernel: KERNEL_NAMES[Deno.build.os] ?? Deno.build.os,
    kernelRelease: tryOr(() => Deno.osRelease(), "?"),
    os: osName,
    cpus,
    cpuModel: tryOr(() => os.cpus()[0]?.model ?? null, null),
    memoryBytes: tryOr(() => Deno.systemMemoryInfo().total, null),
    uptimeSeconds: tryOr(() => Deno.osUptime(), null),
    versions: {
      socklab: denoJson.version,
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      typescript: Deno.version.typescript,
    },
  };
}

/** `3 days, 04:05` style uptime. */
export function formatUptime(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const hm = `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`;
  return d > 0 ? `${d} day${d === 1 ? "" : "s"}, ${hm}` : hm;
}

/** The text layout: one `label: value` line per fact, labels aligned. */
export function formatInfo(i: MachineInfo): string[] {
  const rows: [string, string][] = [
    ["user", i.uid === null ? i.user : `${i.user} (uid ${i.uid})`],
    ["hostname", i.hostname],
    ["arch", i.arch],
    ["os", i.os],
    ["kernel", `${i.kernel} ${i.kernelRelease}`],
    ["cpus", i.cpuModel ? `${i.cpus} (${i.cpuModel})` : String(i.cpus)],
  ];
  if (i.memoryBytes !== null) {
    rows.push(["memory", `${(i.memoryBytes / 2 ** 30).toFixed(1)} GiB`]);
  }
  if (i.uptimeSeconds !== null) rows.push(["uptime", formatUptime(i.uptimeSeconds)]);
  rows.push(
    ["socklab", i.versions.socklab],
    ["deno", i.versions.deno],
    ["v8", i.versions.v8],
    ["typescript", i.versions.typescript],
  );
  const width = Math.max(...rows.map(([k]) => k.length)) + 1;
  return rows.map(([k, v]) => `${(k + ":").padEnd(width)} ${v}`);
}

/** CLI entry point. */
export function main(args: string[], _ctx: CommandContext): Promise<number> {
  const { values } = parseFlags(args, {
    usage: USAGE,
    about: ABOUT,
    maxPositionals: 0,
    options: { json: { type: "boolean", help: "one JSON document" } },
    exitStatus: "0 shown, 2 usage.",
  });
  const info = collectInfo();
  writeOut((values.json ? formatJson(info) : formatInfo(info).join("\n")) + "\n");
  return Promise.resolve(0);
}
