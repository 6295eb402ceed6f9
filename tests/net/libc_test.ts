import { assertEquals, assertOk } from "../helpers/assert.ts";
import { libcLoader, libcUsable, openLibc } from "../../lib/net/libc.ts";

const GETPID = { getpid: { parameters: [], result: "i32" } } as const;

Deno.test("libcLoader() opens libc once and hands back the same calls", () => {
  const libc = libcLoader(GETPID);
  const first = libc();
  assertEquals(first !== null, libcUsable(), "opened exactly where FFI into libc may run");
  assertOk(libc() === first, "the second call reuses the first one's library");
  if (first) assertEquals(first.getpid(), Deno.pid);
});

Deno.test("openLibc() is null, not an error, when a call is missing from libc", () => {
  assertEquals(openLibc({ socklab_no_such_call: { parameters: [], result: "void" } }), null);
});
