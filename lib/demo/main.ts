/**
 * `socklab demo`: runs every section of the lab on loopback with free ports,
 * prints a transcript grouped by exercise, and exits 0 only if every step got
 * the expected reply (otherwise it names the failed step and exits 1).
 *
 * ```sh
 * socklab demo
 * ```
 * @module
 */
import type { CommandContext } from "../cli/command.ts";
import { describeError } from "../cli/errors.ts";
import { parseFlags } from "../cli/flags.ts";
import { paint } from "../cli/output.ts";
import { type DemoContext, DemoFailure, type DemoSection, Transcript } from "./context.ts";
import { SECTIONS } from "./sections.ts";

const USAGE = "usage: socklab demo";
const HELP = `Starts the lab's servers on loopback with free ports, drives each with its
client, prints a transcript and exits 0 if every step got the expected reply.`;

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
  parseFlags(args, { usage: USAGE, help: HELP, maxPositionals: 0, options: {} });
  const started = performance.now();
  const result = await runDemo(SECTIONS, (line) => console.log(line), ctx.signal);
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  console.log("");
  if (result.failed.length === 0) {
    console.log(
      paint("green", `demo: all ${result.passed} steps got the expected reply (${secs} s)`),
    );
    return 0;
  }
  for (const f of result.failed) {
    console.error(`socklab demo: step failed: ${f.section} / ${f.step}: ${f.reason}`);
  }
  console.log(`demo: ${result.passed} steps ok, ${result.failed.length} failed (${secs} s)`);
  return 1;
}
