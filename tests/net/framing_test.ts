import { assertEquals } from "../helpers/assert.ts";
import { type Frame, LineFramer, stripLineEnd } from "../../lib/net/framing.ts";

const enc = (s: string) => new TextEncoder().encode(s);

function frame(chunks: string[], maxLine?: number): (Frame | "end")[] {
  const f = new LineFramer({ maxLine });
  const out: (Frame | "end")[] = [];
  for (const c of chunks) out.push(...f.push(enc(c)));
  const last = f.end();
  if (last) out.push(last);
  return out;
}

const line = (text: string): Frame => ({ kind: "line", text });

const CASES: [string, string[], number | undefined, (Frame | "end")[]][] = [
  ["splits on LF and strips CR", ["a\r\nb\n"], undefined, [line("a"), line("b")]],
  ["joins a line split across chunks", ["he", "ll", "o\nx"], undefined, [line("hello"), line("x")]],
  ["keeps empty lines", ["\n\n"], undefined, [line(""), line("")]],
  ["returns the unterminated tail at end", ["tail"], undefined, [line("tail")]],
  ["accepts a line of exactly maxLine bytes", ["abcd\n"], 4, [line("abcd")]],
  ["accepts maxLine bytes followed by CR LF", ["abcd\r\n"], 4, [line("abcd")]],
  ["reports an over-long line once and resumes", ["abcdef\nok\n"], 4, [
    { kind: "overflow", bytes: 6 },
    line("ok"),
  ]],
  ["reports an over-long line spread over chunks", ["abc", "def", "gh\nok\n"], 4, [
    { kind: "overflow", bytes: 8 },
    line("ok"),
  ]],
  ["reports an over-long unterminated tail", ["abcdefgh"], 4, [{ kind: "overflow", bytes: 8 }]],
  ["keeps non-ASCII text", ["h\u00e9", "!\n"], undefined, [line("h\u00e9!")]],
];

for (const [name, chunks, maxLine, expected] of CASES) {
  Deno.test(`LineFramer ${name}`, () => {
    assertEquals(frame(chunks, maxLine), expected);
  });
}

Deno.test("LineFramer decodes a multi-byte character split across pushes", () => {
  const f = new LineFramer();
  const bytes = enc("\u00e9\n");
  const out = [...f.push(bytes.subarray(0, 1)), ...f.push(bytes.subarray(1))];
  assertEquals(out, [line("\u00e9")]);
});

Deno.test("LineFramer holds at most maxLine+1 bytes of a line that never ends", () => {
  const f = new LineFramer({ maxLine: 1024 });
  const chunk = new Uint8Array(4096).fill(0x61);
  for (let i = 0; i < 2560; i++) f.push(chunk); // 10 MiB without a newline
  assertEquals(f.buffered, 0);
  assertEquals(f.push(enc("\nnext\n")), [
    { kind: "overflow", bytes: 10 * 1024 * 1024 },
    line("next"),
  ]);
});

Deno.test("stripLineEnd() removes one trailing CR LF, LF or CR", () => {
  assertEquals(["a\r\n", "a\n", "a\r", "a", "a\n\n"].map(stripLineEnd), [
    "a",
    "a",
    "a",
    "a",
    "a\n",
  ]);
});
