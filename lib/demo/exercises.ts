/**
 * Demo sections for exercises 1-3: the time server asked in text and over
 * SNTP, the rates server with the SPEC's table, and the registration server
 * driven by its client's prompt (including a repeated request answered as a
 * retry). Servers run in-process on loopback with free ports.
 * @module
 */
import { listInput } from "../cli/input.ts";
import { UdpSocket } from "../net/udp.ts";
import { textRequest, type UdpTarget } from "../net/udp_client.ts";
import { formatTimeResult, queryNtpTime, queryTextTime } from "../time/client.ts";
import { runRegistryPrompt } from "../registry/client.ts";
import type { DemoContext, DemoSection, Transcript } from "./context.ts";
import { startInDemo } from "./services.ts";

/** Starts the lab service `name` on loopback (lab table); returns where to reach it. */
async function start(ctx: DemoContext, out: Transcript, name: string): Promise<UdpTarget> {
  const { port } = (await startInDemo(ctx, name, out)).addr;
  return { hostname: "127.0.0.1", port, label: `127.0.0.1:${port}` };
}

const REQUEST = { timeoutMs: 1000, retries: 1 };

/** Exercise 1: text time with Cristian's offset, then SNTP with four timestamps. */
export const timeSection: DemoSection = {
  title: "Exercise 1: time-server / time-client (text and SNTP)",
  async run(ctx) {
    const target = await start(ctx, ctx.writer("time-server"), "time-server");
    const client = ctx.writer("time-client");
    await ctx.step(
      "TIME gets ISO 8601 with ms and offset; Cristian's offset is near 0",
      async () => {
        const r = await queryTextTime(target, REQUEST);
        formatTimeResult(r).forEach(client.log);
        ctx.expectEqual(
          /^\d{4}-\d\d-\d\dT[\d:]{8}\.\d{3}[+-]\d\d:\d\d$/.test(r.serverTime),
          true,
          "ISO",
        );
        ctx.expectEqual(Math.abs(r.offsetMs) < 100, true, "offset within 100 ms on one machine");
      },
    );
    await ctx.step("an SNTPv4 request gets a server-mode reply (time-client --ntp)", async () => {
      const r = await queryNtpTime(target, REQUEST);
      formatTimeResult(r).forEach(client.log);
      ctx.expectEqual([r.version, r.stratum, r.referenceId], [4, 10, "127.127.1.1"], "reply");
      ctx.expectEqual(Math.abs(r.offsetMs) < 100, true, "offset within 100 ms on one machine");
    });
  },
};

/** Exercise 2: the SPEC's USD line, a conversion, an unknown code. */
export const ratesSection: DemoSection = {
  title: "Exercise 2: rates-server / rates-client (built-in 2010 table)",
  async run(ctx) {
    const target = await start(ctx, ctx.writer("rates-server"), "rates-server");
    const client = ctx.writer("rates-client");
    const ask = async (request: string, expected: string) => {
      client.log(`> ${request}`);
      const reply = await textRequest(target, request, REQUEST);
      client.log(reply.text);
      ctx.expectEqual(reply.text, expected, request);
    };
    await ctx.step("USD against all others, 100 USD in EUR, an unknown code", async () => {
      await ask("USD", "1 USD = 0.653624 GBP, 1.00481 CAD, 0.751033 EUR, 1.07338 AUD");
      await ask("100 USD EUR", "100 USD = 75.1033 EUR");
      await ask("XYZ", "ERR unknown currency XYZ (known: USD GBP CAD EUR AUD)");
    });
  },
};

/** Exercise 3: two clients register; a repeat is a retry; a second owner is refused. */
export const registrySection: DemoSection = {
  title: "Exercise 3: registry-server / registry-client",
  async run(ctx) {
    const server = ctx.writer("registry-server");
    const target = await start(ctx, server, "registry-server");
    await ctx.step("alice's prompt session: register, repeat (a retry), who", async () => {
      const client = ctx.writer("registry-client alice");
      await runRegistryPrompt(target, {
        ...REQUEST,
        input: listInput(["register alice", "register alice", "who alice"]),
        write: client.write,
      });
      ctx.expectEqual(
        client.lines,
        ["OK registered alice", "OK registered alice", "USERS alice"],
        "alice's replies",
      );
    });
    await ctx.step("bob cannot take alice's name; a bad name gets ERR", async () => {
      const client = ctx.writer("registry-client bob");
      await runRegistryPrompt(target, {
        ...REQUEST,
        input: listInput(["register alice", "register bob", "register b@d", "who bob"]),
        write: client.write,
      });
      ctx.expectEqual(client.lines, [
        "ERR alice is already registered",
        "OK registered bob",
        'ERR invalid name "b@d" (1-32 letters, digits, _ . -)',
        "USERS alice bob",
      ], "bob's replies");
      await server.waitFor(/bob registered by /);
    });
    await ctx.step("binary garbage gets an ERR, then unregister", async () => {
      await using sock = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
      const garbage = await textRequest(target, new Uint8Array([0xff, 0x00, 0x1b]), {
        ...REQUEST,
        socket: sock,
      });
      ctx.expectEqual(
        garbage.text,
        "ERR request is not text (UTF-8 without control characters)",
        "reply to binary bytes",
      );
      ctx.say(`> (3 binary bytes)  ->  ${garbage.text}`);
      const reply = await textRequest(target, "unregister alice", { ...REQUEST, socket: sock });
      ctx.expectEqual(reply.text, "OK unregistered alice", "reply to unregister");
      ctx.say(`> unregister alice  ->  ${reply.text}`);
    });
  },
};
