import { assertEquals, throws } from "../helpers/assert.ts";
import { parseFlags } from "../../lib/cli/flags.ts";
import { UsageError } from "../../lib/cli/errors.ts";

const OPTIONS = {
  port: { type: "string", short: "p" },
  listen: { type: "boolean", short: "l" },
  udp: { type: "boolean", short: "u" },
  four: { type: "boolean", short: "4" },
  tag: { type: "string", multiple: true },
  mode: { type: "string", default: "tcp" },
} as const;

const parse = (args: string[]) => {
  const { values, positionals } = parseFlags(args, { usage: "usage: x", options: OPTIONS });
  return { values: { ...values }, positionals };
};

const ACCEPTED: [string, string[], Record<string, unknown>, string[]][] = [
  ["--name value", ["--port", "80", "host"], { port: "80", mode: "tcp" }, ["host"]],
  ["--name=value", ["--port=80"], { port: "80", mode: "tcp" }, []],
  ["an empty --name=", ["--port="], { port: "", mode: "tcp" }, []],
  ["-p value", ["-p", "80"], { port: "80", mode: "tcp" }, []],
  ["-pvalue", ["-p80"], { port: "80", mode: "tcp" }, []],
  ["grouped booleans", ["-lu"], { listen: true, udp: true, mode: "tcp" }, []],
  ["a string option last in a group", ["-lup", "80"], {
    listen: true,
    udp: true,
    port: "80",
    mode: "tcp",
  }, []],
  ["options after positionals", ["host", "-l", "80"], { listen: true, mode: "tcp" }, [
    "host",
    "80",
  ]],
  ["-- ending the options", ["--", "-l", "--port"], { mode: "tcp" }, ["-l", "--port"]],
  ["- as a positional", ["-"], { mode: "tcp" }, ["-"]],
  ["negative numbers as positionals", ["MAX", "-5", "-12"], { mode: "tcp" }, ["MAX", "-5", "-12"]],
  ["a digit flag that exists", ["-4"], { four: true, mode: "tcp" }, []],
  ["repeated multiple options", ["--tag", "a", "--tag=b"], { tag: ["a", "b"], mode: "tcp" }, []],
  ["a default overridden", ["--mode", "udp"], { mode: "udp" }, []],
  ["a value that starts with a dash", ["--port", "-1"], { port: "-1", mode: "tcp" }, []],
];

for (const [name, args, values, positionals] of ACCEPTED) {
  Deno.test(`parseFlags() accepts ${name}`, () => {
    assertEquals(parse(args), { values, positionals });
  });
}

const REJECTED: [string, string[], RegExp][] = [
  ["an unknown long option", ["--bogus"], /^Unknown option '--bogus'$/],
  ["an unknown short option", ["-x"], /^Unknown option '-x'$/],
  ["an unknown option inside a group", ["-lx"], /^Unknown option '-x'$/],
  ["a missing value", ["--port"], /^Option '--port <value>' argument missing$/],
  ["a missing short value", ["-p"], /^Option '-p, --port <value>' argument missing$/],
  ["a value for a boolean", ["--listen=yes"], /^Option '--listen' does not take an argument$/],
  ["__proto__ as an option", ["--__proto__"], /^Unknown option '--__proto__'$/],
];

for (const [name, args, message] of REJECTED) {
  Deno.test(`parseFlags() rejects ${name}`, () => {
    throws(() => parse(args), message, UsageError);
  });
}
