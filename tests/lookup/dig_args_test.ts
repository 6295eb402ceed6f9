import { assertEquals, throws } from "../helpers/assert.ts";
import { digArgs } from "../../lib/lookup/dig_args.ts";

const CASES: [string[], string[], string | undefined][] = [
  [["x.test"], ["x.test"], undefined],
  [["@10.0.0.1", "x.test"], ["--server", "10.0.0.1", "x.test"], undefined],
  [["@::1", "-p", "5353", "x.test"], ["--server", "::1", "x.test"], "5353"],
  [["-p5353", "x.test"], ["x.test"], "5353"],
  [
    ["x.test", "+short", "+tcp", "+norec"],
    ["--short", "--tcp", "--norecurse", "x.test"],
    undefined,
  ],
  [["MX", "x.test"], ["x.test", "MX"], undefined],
  [["x.test", "IN", "MX"], ["x.test", "MX"], undefined],
  [["-t", "AAAA", "x.test"], ["x.test", "AAAA"], undefined],
  [["-x", "10.0.0.2"], ["10.0.0.2"], undefined],
  [["x.test", "+time=3", "+tries=2"], ["--timeout", "3000", "--retries", "1", "x.test"], undefined],
  [["x.test", "+retry=0", "+vc"], ["--retries", "0", "--tcp", "x.test"], undefined],
  [["--server", "1.2.3.4", "--timeout", "100", "x.test", "A"], [
    "--server",
    "1.2.3.4",
    "--timeout",
    "100",
    "x.test",
    "A",
  ], undefined],
  [["in"], ["in"], undefined],
  [["ch", "NS"], ["ch", "NS"], undefined],
];

for (const [input, args, port] of CASES) {
  Deno.test(`digArgs() reads ${JSON.stringify(input.join(" "))}`, () => {
    assertEquals(digArgs(input), { args, port });
  });
}

const BAD: [string[], RegExp][] = [
  [["x.test", "+bogus"], /Unknown dig option "\+bogus"/],
  [["x.test", "+time=x"], /needs a number/],
  [["x.test", "-p"], /needs a value/],
  [["x.test", "CH", "TXT"], /only IN is supported/],
];
for (const [input, message] of BAD) {
  Deno.test(`digArgs() rejects ${JSON.stringify(input.join(" "))}`, () => {
    throws(() => digArgs(input), message, SyntaxError);
  });
}
