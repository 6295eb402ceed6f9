/**
 * The exec server's operations as a pure table: name → what it does to a list
 * of arbitrary-precision integers. Pure code only; nothing here runs a shell
 * or a program.
 *
 * @example
 * ```ts
 * import { findOperation } from "./operations.ts";
 * const max = findOperation("max");
 * console.assert(max?.apply([1n, 4n, 2n], Math.random)[0] === 4n);
 * ```
 * @module
 */

/** One operation: its canonical name, aliases and function. */
export interface Operation {
  /** Canonical name (upper case). */
  readonly name: string;
  /** Other names it answers to (upper case). */
  readonly aliases: readonly string[];
  /** One line for `--help`. */
  readonly summary: string;
  /** The results for `args` (never empty); `random` in [0, 1) for PERMUTE. */
  apply(args: readonly bigint[], random: () => number): bigint[];
}

function extreme(args: readonly bigint[], pick: (a: bigint, b: bigint) => boolean): bigint[] {
  let best = args[0];
  for (let i = 1; i < args.length; i++) if (pick(args[i], best)) best = args[i];
  return [best];
}

const ascending = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);

/** Every operation, in the order `--help` lists them. */
export const OPERATIONS: readonly Operation[] = [
  {
    name: "MIN",
    aliases: [],
    summary: "the smallest argument",
    apply: (args) => extreme(args, (a, b) => a < b),
  },
  {
    name: "MAX",
    aliases: [],
    summary: "the largest argument",
    apply: (args) => extreme(args, (a, b) => a > b),
  },
  {
    name: "SORTU",
    aliases: ["SORT-UP"],
    summary: "the arguments in ascending order",
    apply: (args) => [...args].sort(ascending),
  },
  {
    name: "SORTD",
    aliases: ["SORT-DOWN"],
    summary: "the arguments in descending order",
    apply: (args) => [...args].sort((a, b) => ascending(b, a)),
  },
  {
    name: "REVERSE",
    aliases: [],
    summary: "the arguments in reverse order",
    apply: (args) => [...args].reverse(),
  },
  {
    name: "PERMUTE",
    aliases: [],
    summary: "a random permutation of the arguments",
    apply: (args, random) => {
      // Fisher-Yates: every permutation equally likely.
      const out = [...args];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.min(i, Math.floor(random() * (i + 1)));
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    },
  },
];

const BY_NAME = new Map<string, Operation>();
for (const op of OPERATIONS) {
  BY_NAME.set(op.name, op);
  for (const alias of op.aliases) BY_NAME.set(alias, op);
}

/** The operation called `name` (any case, aliases included), or `undefined`. */
export function findOperation(name: string): Operation | undefined {
  return BY_NAME.get(name.toUpperCase());
}

/** Every name an operation answers to: its canonical name, then its aliases. */
export function namesOf(op: Operation): string[] {
  return [op.name, ...op.aliases];
}
