/**
 * The C library as a test reference: builds tests/lookup/*.c with gcc into
 * .cache/lookup/ (once; rebuilt when the source changes) and runs them.
 * @module
 */
import { fileURLToPath } from "node:url";
import { ROOT } from "../helpers/cli.ts";

const CACHE = `${ROOT}.cache/lookup`;

/** The path of the built helper `name` (from tests/lookup/NAME.c). */
export function cHelper(name: string): string {
  const source = fileURLToPath(new URL(`./${name}.c`, import.meta.url));
  const binary = `${CACHE}/${name}`;
  const srcTime = Deno.statSync(source).mtime?.getTime() ?? 0;
  try {
    if ((Deno.statSync(binary).mtime?.getTime() ?? 0) >= srcTime) return binary;
  } catch {
    // not built yet
  }
  Deno.mkdirSync(CACHE, { recursive: true });
  // Build under a private name, then rename: test files run in parallel.
  const tmp = `${binary}.${Deno.pid}.tmp`;
  const out = new Deno.Command("gcc", {
    args: ["-O2", "-Wall", "-o", tmp, source],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  if (!out.success) {
    throw new Error(`gcc ${name}.c failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  Deno.renameSync(tmp, binary);
  return binary;
}

/** Runs a helper with `input` on stdin; its stdout lines. */
export async function runHelper(
  name: string,
  input: string,
  args: string[] = [],
): Promise<string[]> {
  const out = new Deno.Command(cHelper(name), {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  // Read while writing: a large input would otherwise fill both pipes and deadlock.
  const output = out.output();
  const writer = out.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const result = await output;
  if (!result.success) throw new Error(`${name} exited with ${result.code}`);
  const text = new TextDecoder().decode(result.stdout);
  return text.endsWith("\n") ? text.slice(0, -1).split("\n") : text.split("\n");
}

/** Lower-case hex of the UTF-8 bytes of `text` (how strings reach the C helpers). */
export function hexOf(text: string): string {
  return Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, "0")).join(
    "",
  );
}
