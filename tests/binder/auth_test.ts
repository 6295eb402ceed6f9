import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import {
  MAX_CLOCK_SKEW_MS,
  readKeyFile,
  signRegister,
  verifySignature,
} from "../../lib/binder/auth.ts";
import { parseRequest } from "../../lib/binder/protocol.ts";
import { UsageError } from "../../lib/cli/errors.ts";

const KEY = new TextEncoder().encode("lab-shared-secret-0123456789");
const OTHER = new TextEncoder().encode("someone-elses-secret-98765");

function signed(text: string) {
  const req = parseRequest(text);
  if (req.kind !== "register") throw new Error(`not a REGISTER: ${text}`);
  return req.signature;
}

Deno.test("signRegister() makes a REGISTER that verifySignature() accepts with the same key only", () => {
  const text = signRegister(["MAX", "MIN"], KEY, 1_000_000);
  assertMatch(text, /^REGISTER MAX MIN t=1000000 sig=[0-9a-f]{64}$/);
  assertEquals(verifySignature(signed(text), KEY, 1_000_000), undefined);
  assertEquals(
    verifySignature(signed(text), OTHER, 1_000_000),
    "bad signature (not made with this binder's key)",
  );
});

Deno.test("verifySignature() refuses a changed datagram, an old or future time, and no signature", () => {
  const text = signRegister(["MAX"], KEY, 1_000_000);
  const tampered = text.replace("REGISTER MAX", "REGISTER MIN");
  assertEquals(
    verifySignature(signed(tampered), KEY, 1_000_000),
    "bad signature (not made with this binder's key)",
  );
  const late = 1_000_000 + MAX_CLOCK_SKEW_MS + 1000;
  assertEquals(
    verifySignature(signed(text), KEY, late),
    "signed REGISTER is 31 s old (clocks must agree within 30 s)",
  );
  assertMatch(verifySignature(signed(text), KEY, 0)!, /is 1000 s ahead/);
  assertMatch(verifySignature(undefined, KEY)!, /^REGISTER must be signed/);
});

Deno.test("readKeyFile() drops a final newline and refuses short or missing files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/key`, "lab-shared-secret-0123456789\n");
    assertEquals(await readKeyFile(`${dir}/key`, "usage"), KEY);
    await Deno.writeTextFile(`${dir}/short`, "abc\n");
    const short = await readKeyFile(`${dir}/short`, "usage").catch((e) => e);
    assertOk(short instanceof UsageError);
    assertMatch(short.message, /holds 3 bytes; a key needs at least 16/);
    const missing = await readKeyFile(`${dir}/none`, "usage").catch((e) => e);
    assertOk(missing instanceof UsageError);
    assertMatch(missing.message, /^--key: cannot read /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
