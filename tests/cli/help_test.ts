/**
 * Help and README are one truth (issue 15, item 8). For every command of the
 * table in lib/cli/commands.ts (and the subcommands of inet and bench), its
 * `--help` must: start with `usage: socklab CMD`, list its options in one
 * aligned column, end with an `Exit status:` line; every option it lists must
 * appear in the README where the README speaks of that command; every flag the
 * README gives that command (synopses, `socklab CMD ...` examples) must exist in
 * the help; and the README's exit-status table must give the command the
 * same statuses as its help.
 */
import { COMMANDS } from "../../lib/cli/commands.ts";
import { assertEquals } from "../helpers/assert.ts";
import { ROOT, runCli } from "../helpers/cli.ts";

const README = Deno.readTextFileSync(`${ROOT}README.md`);

/** The commands checked: every table row, and the subcommands with a help of their own. */
const CHECKED: string[][] = [
  ...COMMANDS.map((c) => [c.name]),
  ...["aton", "ntoa", "addr", "pton", "ntop"].map((s) => ["inet", s]),
  ...["udp", "tcp", "chat"].map((m) => ["bench", m]),
];

/** A word boundary for command and flag names (which contain `-`). */
const edge = (s: string) => `(?<![\\w-])${s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![\\w-])`;

/** README paragraphs and list items (a bullet is a paragraph of its own). */
const PARAGRAPHS = README.split(/\n\s*\n|\n(?=- )/);

/** The README's Conventions section: it documents the flags every server and client shares. */
const CONVENTIONS = README.slice(README.indexOf("## Conventions"), README.indexOf("## Commands"));

/** The code spans of a paragraph (`...`), in order. */
function codeSpans(paragraph: string): string[] {
  return [...paragraph.matchAll(/`([^`]*)`/g)].map((m) => m[1]);
}

/** What the README says about `command`: paragraphs naming it in code or bold, or starting with it. */
function readmeScope(command: string): string {
  const word = new RegExp(edge(command));
  const lead = new RegExp(`^- ${edge(command)}:`);
  const socklab = new RegExp(`socklab ${edge(command)}`);
  const bold = new RegExp(`\\*\\*${edge(command)}\\*\\*`);
  return [
    CONVENTIONS,
    ...PARAGRAPHS.filter((p) =>
      codeSpans(p).some((c) => word.test(c)) || lead.test(p) || socklab.test(p) || bold.test(p)
    ),
  ].join("\n\n");
}

/** One help line listing an option: its flags part and where its description starts. */
interface OptionLine {
  flags: string[];
  column: number | null;
}

/** The option lines of a help text, grouped into blocks (a blank or unindented line ends one). */
function optionBlocks(help: string): OptionLine[][] {
  const blocks: OptionLine[][] = [];
  let block: OptionLine[] = [];
  for (const line of help.split("\n")) {
    if (/^ {2,6}--?[A-Za-z0-9]/.test(line)) {
      const gap = / {2,}(?=\S)/.exec(line.trimStart());
      const indent = line.length - line.trimStart().length;
      const head = gap ? line.trimStart().slice(0, gap.index) : line.trim();
      const flags = head.match(/--?[A-Za-z0-9][\w-]*/g) ?? [];
      block.push({ flags, column: gap ? indent + gap.index + gap[0].length : null });
    } else if (!/^ {3,}\S/.test(line) && block.length > 0) {
      blocks.push(block);
      block = [];
    }
  }
  if (block.length > 0) blocks.push(block);
  return blocks;
}

/** Exit statuses named by a text: numbers that open a clause (`0 found, 2 unknown host`). */
export function statusCodes(text: string): number[] {
  const codes = [...text.matchAll(/(?:^|[:;,]|\))\s*(?:\(as \w+\)\s*)?(\d+)\s+[A-Za-z(]/g)]
    .map((m) => Number(m[1]));
  return [...new Set(codes)].sort((a, b) => a - b);
}

/**
 * The flags `socklab CMD` is given in the README's examples and synopses. A
 * word of digits only (`-1`) is an argument, unless `help` has those flags (`-46`).
 */
function readmeFlags(command: string, help: string): string[] {
  const found = new Set<string>();
  const uses = [
    ...[...README.matchAll(new RegExp(`socklab ${edge(command)}([^\\n\`#|;&]*)`, "g"))]
      .map((m) => m[1]),
    ...PARAGRAPHS.flatMap(codeSpans).flatMap((c) =>
      c.startsWith(`${command} `) ? [c.slice(command.length)] : []
    ),
  ];
  for (const rest of uses) {
    for (const word of rest.split(/[\s[\]|,()]+/)) {
      const short = [...word.slice(1)].map((c) => `-${c}`);
      if (/^--[a-z][\w-]*$/.test(word.split("=")[0])) found.add(word.split("=")[0]);
      else if (/^-[0-9]+$/.test(word) && !short.every((f) => new RegExp(edge(f)).test(help))) {
        continue;
      } else if (/^-[A-Za-z0-9]+$/.test(word)) short.forEach((f) => found.add(f));
    }
  }
  return [...found].sort();
}

/** Everything wrong with one command's help, one line each. */
async function problems(args: string[]): Promise<string[]> {
  const name = args.join(" ");
  const { code, stdout } = await runCli([...args, "--help"]);
  const out: string[] = [];
  if (code !== 0) out.push(`--help exits ${code}`);
  if (!stdout.startsWith(`usage: socklab ${name}`)) {
    out.push(`the first line is not "usage: socklab ${name} ...": ${stdout.split("\n")[0]}`);
  }
  const last = stdout.trimEnd().split(/\n\s*\n/).at(-1) ?? "";
  if (!/^Exit status\b/.test(last)) out.push("no Exit status line at the end");
  for (const block of optionBlocks(stdout)) {
    const columns = new Set(block.map((o) => o.column));
    if (columns.has(null)) {
      out.push(`an option line without two spaces: ${block.map((o) => o.flags)}`);
    } else if (columns.size > 1) out.push(`option descriptions start at columns ${[...columns]}`);
  }
  const scope = readmeScope(args[0]);
  const listed = optionBlocks(stdout).flat().map((o) => o.flags);
  for (const flags of listed) {
    if (flags.length > 0 && !flags.some((f) => new RegExp(edge(f)).test(scope))) {
      out.push(`README does not mention ${flags.join("/")} where it speaks of ${args[0]}`);
    }
  }
  if (args.length === 1) {
    for (const flag of readmeFlags(args[0], stdout)) {
      if (flag === "--help" || flag === "-h") continue; // every command has it
      if (!new RegExp(edge(flag)).test(stdout)) out.push(`README gives ${flag}; --help does not`);
    }
    const row = new RegExp(`^\\| \`${args[0]}\` +\\|(.*)\\|\\s*$`, "m").exec(CONVENTIONS);
    if (!row) out.push("no row in README's exit status table");
    else if (statusCodes(row[1]).join() !== statusCodes(last).join()) {
      out.push(`README's exit statuses ${statusCodes(row[1])} vs --help's ${statusCodes(last)}`);
    }
  }
  return out;
}

Deno.test("statusCodes() reads the statuses a help line names", () => {
  assertEquals(statusCodes("Exit status: 0 found, 2 unknown host, 2 usage."), [0, 2]);
  assertEquals(
    statusCodes(
      'Exit status: (as dig) 0 for any reply (NXDOMAIN shown, or as "status" with --json); ' +
        "9 when no server answered; 1 for a malformed reply; 2 usage.",
    ),
    [0, 1, 2, 9],
  );
  assertEquals(statusCodes(" 0 listed; 1 no /proc/net (Linux only); 2 usage "), [0, 1, 2]);
});

for (const args of CHECKED) {
  Deno.test(`socklab ${args.join(" ")} --help agrees with the README`, async () => {
    assertEquals(await problems(args), []);
  });
}
