import { assertEquals } from "../helpers/assert.ts";
import { interpretTyped, splitPositionals } from "../../lib/chat/client.ts";
import { listInput } from "../../lib/cli/input.ts";
import { lineKeyboard, QueueInput } from "../../lib/chat/keyboard.ts";

const TYPED: [string, string, ReturnType<typeof interpretTyped>][] = [
  ["sends a plain line as chat", "hello there", { kind: "send", line: "chat hello there" }],
  ["sends /who as who NAME", "/who", { kind: "send", line: "who alice" }],
  ["quits on /quit", "/quit", { kind: "quit" }],
  ["quits on /q in capitals", "/Q", { kind: "quit" }],
  ["does nothing for an empty line", "   ", { kind: "nothing" }],
  ["sends //text as a chat line starting with /", "//shrug", { kind: "send", line: "chat /shrug" }],
  ["explains an unknown /command instead of sending it", "/nick bob", {
    kind: "help",
    text: "unknown command /nick: type a line to chat; /who lists the members, /quit leaves",
  }],
];

for (const [name, line, expected] of TYPED) {
  Deno.test(`interpretTyped() ${name}`, () => {
    assertEquals(interpretTyped(line, "alice"), expected);
  });
}

const POSITIONALS: [string, string[], ReturnType<typeof splitPositionals>][] = [
  ["takes HOST PORT NAME", ["h", "5600", "al"], { host: "h", port: "5600", name: "al" }],
  ["takes HOST PORT", ["h", "5600"], { host: "h", port: "5600" }],
  ["takes HOST:PORT NAME", ["h:1", "al"], { host: "h:1", name: "al" }],
  ["takes HOST alone", ["h"], { host: "h", port: undefined }],
  ["takes nothing", [], { host: undefined, port: undefined }],
];

for (const [name, args, expected] of POSITIONALS) {
  Deno.test(`splitPositionals() ${name}`, () => {
    assertEquals(splitPositionals(args), expected);
  });
}

Deno.test("lineKeyboard() shows server lines one per line and asks without a prompt on a pipe", async () => {
  const out: string[] = [];
  const kb = lineKeyboard(listInput(["bob"]), (t) => out.push(t));
  assertEquals(await kb.ask("Name: "), "bob");
  kb.show("Msg a says: b");
  assertEquals(out, ["Msg a says: b\n"]);
  assertEquals(await kb.next(), null);
});

Deno.test("QueueInput hands out pushed lines in order, then null after end()", async () => {
  const q = new QueueInput();
  const first = q.next();
  q.push("one");
  q.push("two");
  q.end();
  assertEquals([await first, await q.next(), await q.next()], ["one", "two", null]);
});
