import { assertEquals } from "../helpers/assert.ts";
import {
  aboveInput,
  type EditorAction,
  inputLine,
  LineEditor,
} from "../../lib/chat/line_editor.ts";

const submit = (line: string): EditorAction => ({ kind: "submit", line });
const changed: EditorAction = { kind: "changed" };

const CASES: [string, string[], EditorAction[], string][] = [
  ["submits a typed line on Enter", ["hi\r"], [submit("hi")], ""],
  ["submits on LF too (a paste)", ["a\nb\n"], [submit("a"), submit("b")], ""],
  ["submits CR LF once", ["a\r\nb\r\n"], [submit("a"), submit("b")], ""],
  ["keeps a partial line", ["hel", "lo"], [changed, changed], "hello"],
  ["deletes one character on Backspace", ["abc\x7f"], [changed], "ab"],
  ["deletes a whole non-BMP character", ["a\u{1f600}\x7f"], [changed], "a"],
  ["clears the line on Ctrl-U", ["abc\x15"], [changed], ""],
  ["deletes the last word on Ctrl-W", ["one two \x17"], [changed], "one "],
  ["ends input on Ctrl-D on an empty line", ["\x04"], [{ kind: "eof" }], ""],
  ["ignores Ctrl-D in the middle of a line", ["ab\x04"], [changed], "ab"],
  ["reports Ctrl-C", ["\x03"], [{ kind: "interrupt" }], ""],
  ["ignores arrow keys", ["a\x1b[A\x1b[1;5Cb"], [changed], "ab"],
  ["ignores an escape sequence split across reads", ["a\x1b", "[", "Db"], [changed, changed], "ab"],
  ["ignores SS3 keys (F1)", ["\x1bOPx"], [changed], "x"],
  ["turns a tab into a space", ["a\tb"], [changed], "a b"],
  ["ignores other control keys", ["a\x01\x02b"], [changed], "ab"],
  ["keeps what follows a submitted line", ["one\rtw"], [submit("one"), changed], "tw"],
];

for (const [name, chunks, expected, buffer] of CASES) {
  Deno.test(`LineEditor ${name}`, () => {
    const ed = new LineEditor();
    const actions = chunks.flatMap((c) => ed.feed(c));
    assertEquals(actions, expected);
    assertEquals(ed.buffer, buffer);
  });
}

Deno.test("inputLine() clears the row and shows the prompt and the buffer", () => {
  assertEquals(inputLine("alice> ", "hel"), "\r\x1b[2Kalice> hel");
});

Deno.test("inputLine() shows only the tail of a line longer than the terminal", () => {
  assertEquals(inputLine("> ", "abcdefghijklmnop", 12), "\r\x1b[2K> hijklmnop");
});

Deno.test("aboveInput() prints the message on the input row, then redraws the input below", () => {
  assertEquals(
    aboveInput("Msg bob says: hi", "alice> ", "hel"),
    "\r\x1b[2KMsg bob says: hi\r\nalice> hel",
  );
});
