/**
 * The room's name directory, pure: which names are signed in, in sign-in
 * order, unique case-insensitively, each with the address it came from. The
 * in-process bus (bus.ts) is one of these for the whole room; the Redis bus
 * keeps one for the members of its own instance, which is what it answers
 * from while Redis is down.
 *
 * @example
 * ```ts
 * import { MemberDirectory } from "./members.ts";
 * const names = new MemberDirectory();
 * console.assert(names.claim("alice", "127.0.0.1:40000"));
 * console.assert(!names.claim("ALICE", "127.0.0.1:40001")); // taken, whatever the case
 * console.assert(names.names().join() === "alice");
 * names.release("alice");
 * console.assert(names.size === 0);
 * ```
 * @module
 */

/** A member as the directory knows it. */
export interface DirectoryEntry {
  name: string;
  /** `HOST:PORT` of the client. */
  peer: string;
}

/** The case-insensitive form names are compared in. */
export function foldName(name: string): string {
  return name.toLowerCase();
}

/** Signed-in names in sign-in order, unique case-insensitively. */
export class MemberDirectory {
  readonly #byName = new Map<string, DirectoryEntry>();

  /** How many names are signed in. */
  get size(): number {
    return this.#byName.size;
  }

  /** True when `name` (in any case) is signed in. */
  has(name: string): boolean {
    return this.#byName.has(foldName(name));
  }

  /** Takes `name` for `peer`; false (nothing changed) when it is taken in any case. */
  claim(name: string, peer: string): boolean {
    const key = foldName(name);
    if (this.#byName.has(key)) return false;
    this.#byName.set(key, { name, peer });
    return true;
  }

  /** Gives `name` back; false when it was not signed in. */
  release(name: string): boolean {
    return this.#byName.delete(foldName(name));
  }

  /** Every name, in sign-in order. */
  names(): string[] {
    return Array.from(this.#byName.values(), (e) => e.name);
  }

  /** Every entry, in sign-in order. */
  entries(): DirectoryEntry[] {
    return [...this.#byName.values()];
  }
}
