/**
 * Finds a program the way a shell does: the first executable file named
 * `cmd` in PATH (then /usr/sbin and /sbin, where Debian puts daemons).
 *
 * @example
 * ```ts
 * import { which } from "./which.ts";
 * console.log(which("sh")); // "/usr/bin/sh" (or undefined)
 * ```
 * @module
 */

/** The full path of `cmd` on PATH (or an absolute path that exists), else undefined. */
export function which(cmd: string): string | undefined {
  if (cmd.startsWith("/")) return isExecutable(cmd) ? cmd : undefined;
  const path = Deno.env.get("PATH") ?? "/usr/bin:/bin";
  for (const dir of [...path.split(":"), "/usr/sbin", "/sbin"]) {
    const full = `${dir}/${cmd}`;
    if (isExecutable(full)) return full;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    const st = Deno.statSync(path);
    return st.isFile && ((st.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false; // not here
  }
}
