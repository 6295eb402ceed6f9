/**
 * Service names from /etc/services (`ssh` → 22), for what needs a name
 * without a resolver call: ss-style filters (`sport = :ssh`) and telling a
 * SERVICE from a second NAME on getaddrinfo's command line.
 *
 * ```text
 * line = name SP port "/" proto *(SP alias) ["#" comment]
 * ```
 *
 * @example
 * ```ts
 * import { parseServices } from "./services.ts";
 * const names = parseServices("ssh  22/tcp\nhttp 80/tcp www # web\n");
 * console.assert(names.get("www") === 80 && names.get("ssh") === 22);
 * ```
 * @module
 */

/** Parses /etc/services text into name (and alias) → port; the first entry of a name wins. */
export function parseServices(text: string): Map<string, number> {
  const names = new Map<string, number>();
  for (const raw of text.split("\n")) {
    const fields = raw.replace(/#.*/, "").trim().split(/\s+/);
    const m = /^([0-9]+)\/[a-z]+$/.exec(fields[1] ?? "");
    if (!m) continue;
    const port = Number(m[1]);
    for (const name of [fields[0], ...fields.slice(2)]) {
      if (!names.has(name)) names.set(name, port);
    }
  }
  return names;
}

let cached: Map<string, number> | undefined;

/** The port of service `name` in /etc/services (read once), or null. */
export function servicePort(name: string, path = "/etc/services"): number | null {
  if (!cached) {
    try {
      cached = parseServices(Deno.readTextFileSync(path));
    } catch {
      cached = new Map();
    }
  }
  return cached.get(name) ?? null;
}
