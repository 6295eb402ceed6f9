/**
 * Demo section for the name look-ups: inet_aton's lenient forms (pure) and a
 * getaddrinfo of localhost through the system resolver. Nothing leaves the
 * machine: localhost is answered from /etc/hosts.
 */
import { getentHints, getentLine } from "../lookup/addrinfo.ts";
import { hex32, inetAton } from "../lookup/inet.ts";
import { systemResolver } from "../lookup/resolver.ts";
import type { DemoSection } from "./context.ts";

/** The lecture's name-retrieval functions, briefly. */
export const lookupSection: DemoSection = {
  title: "Name look-ups (inet aton, getaddrinfo)",
  async run(ctx) {
    const out = ctx.writer("socklab");
    await ctx.step("inet aton accepts the C library's short and hex forms", () => {
      for (const input of ["127.1", "0x7f.0.0.1", "10.0x10000"]) {
        const r = inetAton(input);
        if (!r.valid) throw new Error(`${input} should be valid`);
        out.log(`inet aton ${input} -> ${r.address}  ${r.value}  ${hex32(r.value)}`);
        ctx.expectEqual(r.address, input === "10.0x10000" ? "10.1.0.0" : "127.0.0.1", input);
      }
      const bad = inetAton("1.2.3.256");
      ctx.expectEqual(bad.valid, false, "1.2.3.256 is rejected");
      if (!bad.valid) out.log(`inet aton 1.2.3.256 -> invalid: ${bad.reason}`);
      return Promise.resolve();
    });
    await ctx.step("getaddrinfo localhost returns loopback, like getent ahosts", async () => {
      const resolver = systemResolver();
      const results = await resolver.getaddrinfo("localhost", null, getentHints());
      out.log(`getaddrinfo localhost (${resolver.source}):`);
      for (const r of results) out.log(`  ${getentLine(r, false).trimEnd()}`);
      const loopback = results.some((r) => r.address === "127.0.0.1" || r.address === "::1");
      ctx.expectEqual(loopback, true, "a loopback address among the results");
    });
  },
};
