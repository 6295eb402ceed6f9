/**
 * `socklab demo`: runs every section of the lab on loopback with free ports,
 * prints a transcript grouped by exercise, and exits 0 only if every step got
 * the expected reply (otherwise it names the failed step and exits 1).
 *
 * ```sh
 * socklab demo
 * socklab demo --serve [--bind ADDR] [--default-ports] [--quiet] [--web [HOST:]PORT]
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { describeError, UsageError } from "../cli/errors.ts";
import { parseFlags } from "../cli/flags.ts";
import { type HostPort, parseHostPort } from "../net/address.ts";
import { paint } from "../cli/output.ts";
import { type DemoContext, DemoFailure, type DemoSection, Transcript } from "./context.ts";
import { SECTIONS } from "./sections.ts";
import { serveLab } from "./serve.ts";

const USAGE = `usage: socklab demo
       socklab demo --serve [--bind ADDR] [--default-ports] [--quiet] [--web [HOST:]PORT]`;
const HELP = `Starts the lab's servers on loopback with free ports, drives each with its
client, prints a transcript and exits 0 if every step got the expected reply.

With --serve, starts every service of the lab and keeps it running, printing
one line per service (name, transport, address:port, a client to try), then
the services' log lines; Ctrl-C stops them all.

  --serve          run the whole lab until Ctrl-C
  --bind ADDR      address every service binds (default 127.0.0.1; a class
                   needs this machine's address, or 0.0.0.0)
  --default-ports  the SPEC's ports (udp-server 1500, time 1501, rates 1502,
                   registry 1503, tcp-server 5000, binder 5500, chat 5600)
                   instead of free ones
  --quiet          print the address table only, not the services' logs
  --web [HOST:]PORT  also serve the lab console, a live read-only page of the
                   services, chat members, binder records and events, with
                   Prometheus metrics at /metrics (HOST defaults to 127.0.0.1;
                   PORT 0 picks a free port; the URL is printed at start-up)`;

/** Result of one demo run. */
export interface DemoResult {
  passed: number;
  failed: { section: string; step: string; reason: string }[];
}

/** Runs `sections` in order, printing through `print`. */
export async function runDemo(
  sections: readonly DemoSection[],
  print: (line: string) => void,
  outer?: AbortSignal,
): Promise<DemoResult> {
  const result: DemoResult = { passed: 0, failed: [] };
  for (const section of sections) {
    if (outer?.aborted) break;
    print("");
    print(paint("bold", `== ${section.title}`));
    const controller = new AbortController();
    const stop = () => controller.abort();
    outer?.addEventListener("abort", stop, { once: true });
    const tracked: Promise<unknown>[] = [];
    const ctx: DemoContext = {
      signal: controller.signal,
      track(running) {
        tracked.push(running.catch(() => {}));
        return running;
      },
      say: (line) => print(`   ${line}`),
      writer: (role) => new Transcript((line) => print(`   ${paint("dim", `[${role}]`)} ${line}`)),
      async step(label, fn) {
        const started = performance.now();
        try {
          await fn();
        } catch (err) {
          const reason = describeError(err);
          print(`   ${paint("red", "FAIL")} ${label}: ${reason}`);
          result.failed.push({ section: section.title, step: label, reason });
          throw new StepFailed();
        }
        const ms = (performance.now() - started).toFixed(0);
        print(`   ${paint("green", "ok")}   ${label} ${paint("dim", `(${ms} ms)`)}`);
        result.passed++;
      },
      expectEqual(actual, expected, what) {
        if (!Object.is(actual, expected) && JSON.stringify(actual) !== JSON.stringify(expected)) {
          throw new DemoFailure(
            `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`,
          );
        }
      },
    };
    try {
      await section.run(ctx);
    } catch (err) {
      if (!(err instanceof StepFailed)) {
        const reason = describeError(err);
        print(`   ${paint("red", "FAIL")} ${section.title}: ${reason}`);
        result.failed.push({ section: section.title, step: "(set-up)", reason });
      }
    } finally {
      controller.abort();
      outer?.removeEventListener("abort", stop);
      await Promise.all(tracked);
    }
  }
  return result;
}

class StepFailed extends Error {}

/** CLI entry point. */
export async function main(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseFlags(args, {
    usage: USAGE,
    help: HELP,
    maxPositionals: 0,
    options: {
      serve: { type: "boolean" },
      bind: { type: "string" },
      "default-ports": { type: "boolean" },
      quiet: { type: "boolean" },
      web: { type: "string" },
    },
  });
  if (values.serve) {
    return await serveLab({
      signal: ctx.signal,
      bind: values.bind,
      defaultPorts: values["default-ports"],
      quiet: values.quiet,
      web: values.web === undefined ? undefined : parseWebAddress(values.web),
    });
  }
  for (const flag of ["bind", "default-ports", "quiet", "web"] as const) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} needs --serve`, USAGE);
  }
  return await demoCommand(SECTIONS, { signal: ctx.signal });
}

/**
 * `--web [HOST:]PORT`: a bare port means 127.0.0.1 (the console is for this
 * machine unless told otherwise). Throws UsageError for anything else.
 */
export function parseWebAddress(text: string): HostPort {
  try {
    return /^[0-9]+$/.test(text) ? parseHostPort(`127.0.0.1:${text}`) : parseHostPort(text);
  } catch (err) {
    throw new UsageError(`--web: ${describeError(err)}`, USAGE);
  }
}

/** Options of {@linkcode demoCommand}. */
export interface DemoCommandOptions {
  signal?: AbortSignal;
  /** stdout lines (default console.log). */
  print?: (line: string) => void;
  /** stderr lines (default console.error). */
  printErr?: (line: string) => void;
}

/**
 * `socklab demo` without its flags: runs `sections`, prints the transcript and
 * the verdict, and returns the exit status (1 naming each failed step on stderr).
 */
export async function demoCommand(
  sections: readonly DemoSection[],
  options: DemoCommandOptions = {},
): Promise<number> {
  const print = options.print ?? ((line: string) => console.log(line));
  const printErr = options.printErr ?? ((line: string) => console.error(line));
  const started = performance.now();
  const result = await runDemo(sections, print, options.signal);
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  print("");
  if (result.failed.length === 0) {
    print(paint("green", `demo: all ${result.passed} steps got the expected reply (${secs} s)`));
    return 0;
  }
  for (const f of result.failed) {
    printErr(`socklab demo: step failed: ${f.section} / ${f.step}: ${f.reason}`);
  }
  print(`demo: ${result.passed} steps ok, ${result.failed.length} failed (${secs} s)`);
  return 1;
}
