import { alignOptions, finishHelp, formatHelp, tableLines, wrap } from "../../lib/cli/help.ts";
import { assertEquals } from "../helpers/assert.ts";

Deno.test("formatHelp() lists declared options in one column, wrapped, with the exit status last", () => {
  const text = formatHelp({
    usage: "usage: socklab x [-v] [--port N]",
    about: "Does x.",
    options: {
      verbose: { type: "boolean", short: "v", help: "say more" },
      port: {
        type: "string",
        arg: "N",
        help: "the port to use for everything this command does, which is quite a lot (default 1)",
      },
      hidden: { type: "boolean" },
    },
    rows: [["NAME", "what to look up"]],
    after: "Examples: none.",
    exitStatus: "0 success, 1 failure, 2 usage.",
  });
  assertEquals(text.split("\n"), [
    "usage: socklab x [-v] [--port N]",
    "",
    "Does x.",
    "",
    "  -v, --verbose  say more",
    "  --port N       the port to use for everything this command does, which is",
    "                 quite a lot (default 1)",
    "  NAME           what to look up",
    "",
    "Examples: none.",
    "",
    "Exit status: 0 success, 1 failure, 2 usage.",
  ]);
});

Deno.test("tableLines() puts a very long flag's description on the next line", () => {
  assertEquals(tableLines([["--a", "x"], ["--binder HOST[:PORT],... --and-more", "y"]]), [
    "  --a                         x",
    "  --binder HOST[:PORT],... --and-more",
    "                              y",
  ]);
});

Deno.test("wrap() keeps a 'quoted example' whole", () => {
  assertEquals(wrap("filters such as 'sport = :53' work", 20), [
    "filters such as",
    "'sport = :53' work",
  ]);
});

Deno.test("alignOptions() aligns free help text's option blocks and their continuation lines", () => {
  // The lines around the option block are the same before and after.
  const around = (block: string[]) => [
    "Intro line.",
    "",
    ...block,
    "",
    "  MIN          not an option: left alone",
  ];
  const text = around([
    "  --port N     port (default 5000)",
    "  --idle-timeout S  close a silent client",
    "               (default 30)",
    "  --rates FILE a CSV matrix",
  ]).join("\n");
  assertEquals(
    alignOptions(text).split("\n"),
    around([
      "  --port N          port (default 5000)",
      "  --idle-timeout S  close a silent client",
      "                    (default 30)",
      "  --rates FILE      a CSV matrix",
    ]),
  );
});

Deno.test("finishHelp() adds the default exit status only where the help has none", () => {
  assertEquals(
    finishHelp("usage: x\n", "0 ok, 2 usage."),
    "usage: x\n\nExit status: 0 ok, 2 usage.",
  );
  assertEquals(
    finishHelp("usage: x\n\nExit status: 0 fine.", "0 ok."),
    "usage: x\n\nExit status: 0 fine.",
  );
  // A status number is never left at the end of a line, apart from its meaning.
  const long = finishHelp(
    "usage: x",
    "0 answered, 2 no name (with --name-required, as getent hosts), 1 the resolver failed, 2 usage.",
  );
  assertEquals(long.split("\n").slice(2), [
    "Exit status: 0 answered, 2 no name (with --name-required, as getent hosts),",
    "1 the resolver failed, 2 usage.",
  ]);
});
