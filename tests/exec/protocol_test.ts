import { assertEquals, assertOk, throws } from "../helpers/assert.ts";
import { cases } from "../helpers/cases.ts";
import { findOperation, OPERATIONS } from "../../lib/exec/operations.ts";
import {
  answerRequest,
  MAX_ARGUMENTS,
  parseCommandList,
  registeredNames,
} from "../../lib/exec/protocol.ts";
import { splitCall } from "../../lib/exec/client.ts";

const BIG = "1234567890123456789012345678901234567890"; // 40 digits
const BIGGER = "1234567890123456789012345678901234567891";

const ANSWERS = cases`
  answers the SPEC's MAX example           | MAX 1 2 3 4            | MAX 4
  answers the SPEC's SORTU example         | SORTU 8 1 4 0          | SORTU 0 1 4 8
  answers MIN                              | MIN 5 -3 7             | MIN -3
  answers SORTD                            | SORTD 8 1 4 0          | SORTD 8 4 1 0
  answers the SORT-UP alias under the name asked | SORT-UP 3 -1 2         | SORT-UP -1 2 3
  answers the SORT-DOWN alias              | sort-down 3 -1 2       | SORT-DOWN 3 2 -1
  answers REVERSE                          | REVERSE 1 2 3          | REVERSE 3 2 1
  answers one argument                     | MAX 7                  | MAX 7
  compares 40-digit integers exactly       | MAX ${BIG} ${BIGGER} 5 | MAX ${BIGGER}
  compares negative 40-digit integers      | MIN -${BIG} -${BIGGER} | MIN -${BIGGER}
  sorts 40-digit and small integers together | SORTU ${BIG} -${BIG} 0 | SORTU -${BIG} 0 ${BIG}
  writes integers in canonical form        | SORTU +5 007 -0        | SORTU 0 5 7
  is case-insensitive and ignores a trailing newline and tabs | "max\t1  2\r\n"        | MAX 2
  keeps equal values                       | SORTU 2 1 2 1          | SORTU 1 1 2 2
  refuses a command it does not know       | FOO 1                  | ERR unknown command "FOO" (offered: MIN, MAX, SORTU (SORT-UP), SORTD (SORT-DOWN), REVERSE, PERMUTE)
  refuses a missing argument               | MAX                    | ERR MAX needs at least one integer
  refuses a decimal fraction               | MAX 1 2.5              | ERR not an integer: "2.5"
  refuses hex (BigInt would take it)       | MAX 0x10               | ERR not an integer: "0x10"
  refuses a lone sign                      | MAX -                  | ERR not an integer: "-"
  refuses an empty request                 | ""                     | ERR empty request
  refuses a request of only newlines and NULs | "\n\u0000"             | ERR empty request
`;

for (const [name, request, reply] of ANSWERS) {
  Deno.test(`answerRequest() ${name}`, () => {
    assertEquals(answerRequest(request, OPERATIONS), reply);
  });
}

Deno.test("answerRequest() refuses a command this server does not offer", () => {
  const offered = parseCommandList("MIN,MAX");
  assertEquals(
    answerRequest("SORTU 2 1", offered),
    'ERR command not offered here "SORTU" (offered: MIN, MAX)',
  );
  assertEquals(answerRequest("MIN 2 1", offered), "MIN 1");
});

Deno.test("answerRequest() ignores replies so two services never bounce errors", () => {
  assertEquals(answerRequest("OK REGISTER MAX", OPERATIONS), undefined);
  assertEquals(answerRequest("ERR no server for MAX", OPERATIONS), undefined);
});

Deno.test("answerRequest() takes 10,000 arguments and refuses 10,001", () => {
  const args = Array.from({ length: MAX_ARGUMENTS }, (_, i) => String(i));
  assertEquals(answerRequest(`MAX ${args.join(" ")}`, OPERATIONS), "MAX 9999");
  assertEquals(
    answerRequest(`MAX ${args.join(" ")} 1`, OPERATIONS),
    "ERR too many arguments: 10001 (at most 10000)",
  );
});

Deno.test("answerRequest() refuses a reply longer than one datagram", () => {
  const r = answerRequest("REVERSE 1 2 3", OPERATIONS, { maxReplyBytes: 8 });
  assertEquals(r, "ERR reply of 13 bytes does not fit in one datagram");
});

Deno.test("PERMUTE returns a permutation, and every one of 3! orders occurs", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 300; i++) {
    const reply = answerRequest(`PERMUTE 1 2 ${BIG}`, OPERATIONS)!;
    const words = reply.split(" ");
    assertEquals(words[0], "PERMUTE");
    assertEquals([...words.slice(1)].sort(), ["1", BIG, "2"].sort());
    seen.add(reply);
  }
  assertEquals(seen.size, 6);
});

Deno.test("PERMUTE follows the injected random source (Fisher-Yates)", () => {
  assertEquals(
    answerRequest("PERMUTE 1 2 3", OPERATIONS, { random: () => 0.999 }),
    "PERMUTE 1 2 3",
  );
  assertEquals(answerRequest("PERMUTE 1 2 3", OPERATIONS, { random: () => 0 }), "PERMUTE 2 3 1");
});

Deno.test("findOperation() knows every name and alias in any case", () => {
  for (
    const name of ["MIN", "MAX", "SORTU", "SORT-UP", "SORTD", "SORT-DOWN", "REVERSE", "PERMUTE"]
  ) {
    assertOk(findOperation(name.toLowerCase()), name);
  }
  assertEquals(findOperation("SORT-UP"), findOperation("SORTU"));
  assertEquals(findOperation("SH"), undefined);
});

Deno.test("parseCommandList() reads --commands, aliases included, and names an unknown one", () => {
  assertEquals(parseCommandList("min,MAX").map((op) => op.name), ["MIN", "MAX"]);
  assertEquals(parseCommandList("SORT-UP, sortu").map((op) => op.name), ["SORTU"]);
  assertEquals(registeredNames(parseCommandList("SORTU,MAX")), ["SORTU", "SORT-UP", "MAX"]);
  throws(() => parseCommandList("MAX,rm"), /Unknown command "rm" \(known: MIN, MAX/, SyntaxError);
  throws(() => parseCommandList(","), /No command given/, SyntaxError);
});

Deno.test("splitCall() reads negative numbers after CMD as arguments, not flags", () => {
  assertEquals(splitCall(["--binder", "h:1", "MAX", "-5", "3"]), [["--binder", "h:1"], [
    "MAX",
    "-5",
    "3",
  ]]);
  assertEquals(splitCall(["-v", "--timeout", "100", "MIN", "--x"]), [["-v", "--timeout", "100"], [
    "MIN",
    "--x",
  ]]);
  assertEquals(splitCall(["--list"]), [["--list"], []]);
  assertEquals(splitCall(["--binder=h", "--", "-1"]), [["--binder=h"], ["-1"]]);
});
