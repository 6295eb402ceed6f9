/**
 * README and `--help` are one source of truth for the chat commands: the
 * README shows `chat-server --help` word for word, and chat-client's usage
 * line, so the two cannot drift apart again (issue 15, item 8).
 */
import { assertEquals, assertOk } from "../helpers/assert.ts";
import { ROOT, runCli } from "../helpers/cli.ts";

const README = await Deno.readTextFile(`${ROOT}README.md`);

Deno.test("README shows chat-server --help word for word", async () => {
  const m = /`socklab chat-server --help`[^\n]*\n\n```text\n([\s\S]*?)\n```/.exec(README);
  assertOk(m, "README has a chat-server --help block");
  const help = await runCli(["chat-server", "--help"]);
  assertEquals(help.code, 0);
  assertEquals(m[1], help.stdout.trimEnd());
});

Deno.test("README gives chat-client's usage as its --help does", async () => {
  const help = await runCli(["chat-client", "--help"]);
  const usage = help.stdout.split("\n")[0].replace(/^usage: socklab /, "");
  assertOk(README.includes(`\`${usage}\``), `README lacks \`${usage}\``);
});

Deno.test("chat --help texts end with an exit-status line", async () => {
  for (const cmd of ["chat-server", "chat-client"]) {
    const help = await runCli([cmd, "--help"]);
    assertOk(/\nExit status: .*\n?$/s.test(help.stdout), `${cmd} --help has no exit-status line`);
  }
});
