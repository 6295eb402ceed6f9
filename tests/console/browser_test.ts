/**
 * The console page in a real headless chromium, fed by monitors this test
 * drives directly (no lab services): what a person sees for counters, chat
 * members, binder records, registry names and events — hostile names shown as
 * text — and the page catching up after the server cuts its event stream.
 */
import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { peerTest } from "../helpers/peers.ts";
import { ConsoleHub } from "../../lib/console/hub.ts";
import { TimedMonitor } from "../../lib/console/timed_monitor.ts";
import type { MemberState } from "../../lib/net/monitor.ts";
import { launchChromium } from "./cdp.ts";
import { rowText, serviceNumber } from "./console_page.ts";
import { serveConsole } from "./serve_console.ts";
import { ROOT } from "../helpers/cli.ts";

const HOSTILE = "<img src=x onerror=alert(1)>";

function lab() {
  const hub = new ConsoleHub({ tickMs: 200 });
  const monitors = {
    rates: new TimedMonitor("rates-server"),
    chat: new TimedMonitor("chat-server"),
    binder: new TimedMonitor("binder"),
    registry: new TimedMonitor("registry-server"),
  };
  const members: MemberState[] = [];
  const names: string[] = [];
  monitors.chat.setState(() => ({
    kind: "chat",
    members,
    lines: 0,
    droppedSlow: 1,
    droppedDead: 2,
  }));
  monitors.binder.setState(() => ({
    kind: "binder",
    records: [{ command: HOSTILE, host: "127.0.0.1", port: 4000, expiresInMs: 29_500 }],
  }));
  monitors.registry.setState(() => ({ kind: "registry", names }));
  hub.add({
    label: "rates-server",
    transport: "udp",
    address: "127.0.0.1:1502",
    monitor: monitors.rates,
  });
  hub.add({
    label: "chat-server",
    transport: "tcp",
    address: "127.0.0.1:5600",
    monitor: monitors.chat,
  });
  hub.add({
    label: "binder",
    transport: "udp",
    address: "127.0.0.1:5500",
    monitor: monitors.binder,
  });
  hub.add({
    label: "registry-server",
    transport: "udp",
    address: "127.0.0.1:1503",
    monitor: monitors.registry,
  });
  return { hub, monitors, members, names };
}

peerTest(
  "the console page shows live counters, members and events as text, and catches up after its stream is cut",
  ["chromium"],
  async () => {
    const { hub, monitors, members, names } = lab();
    await using server = await serveConsole(hub);
    await using browser = await launchChromium();
    const page = await browser.newPage();
    const streams: string[] = [];
    browser.on((method, params) => {
      const req = params.request as { url?: string } | undefined;
      if (method === "Network.requestWillBeSent" && req?.url?.endsWith("/events")) {
        streams.push(req.url);
      }
    });
    await page.send("Network.enable");
    const dialogs: unknown[] = [];
    browser.on((method, params) =>
      method === "Page.javascriptDialogOpening" && dialogs.push(params)
    );
    await page.goto(server.url);

    // Every service row, with its transport and address.
    await page.waitFor(
      `document.querySelectorAll("#services tbody tr").length === 4`,
      "four rows",
    );
    assertMatch(
      await page.evaluate<string>(rowText("rates-server")),
      /^rates-server \| UDP \| 127\.0\.0\.1:1502 \| up \| 0 \|/,
    );
    assertMatch(
      await page.evaluate<string>(rowText("chat-server")),
      /^chat-server \| TCP \| 127\.0\.0\.1:5600 \| up \|/,
    );

    // Requests and error replies: the counters rise, p50/p99 appear.
    for (let i = 0; i < 30; i++) monitors.rates.served(0.2, false);
    monitors.rates.served(3, true, "127.0.0.1:40000", `ERR unknown currency ${HOSTILE}`);
    await page.waitFor(`${rowText("rates-server")}.includes("| 31 |")`, "31 requests");
    assertEquals(await serviceNumber(page, "rates-server", "errors"), 1);
    assertMatch(
      await page.evaluate<string>(rowText("rates-server")),
      /\| \d+ µs \| [\d.]+ (µs|ms)$/,
    );

    // A member signs in with a hostile name: shown as those characters, no element injected.
    members.push({ name: HOSTILE, peer: "127.0.0.1:40001" }, {
      name: "bob",
      peer: "127.0.0.1:40002",
      instance: "lab-a",
    });
    monitors.chat.event("signin", `${HOSTILE} signed in`, "127.0.0.1:40001");
    const chat = await page.waitFor<string>(
      `document.getElementById("chat").textContent.includes("bob") && document.getElementById("chat").innerText`,
      "members",
    );
    assertOk(chat.includes(`${HOSTILE} 127.0.0.1:40001`), chat);
    assertOk(chat.includes("bob 127.0.0.1:40002 on lab-a"), chat);
    assertOk(chat.includes("dropped: 1 slow, 2 dead"), chat);
    const events = await page.waitFor<string>(
      `document.getElementById("events").innerText.includes("signed in") && document.getElementById("events").innerText`,
      "the signin event",
    );
    assertOk(events.includes(`signin chat-server 127.0.0.1:40001: ${HOSTILE} signed in`), events);
    assertOk(events.includes(`ERR unknown currency ${HOSTILE}`), events);
    assertOk(
      (await page.evaluate<string>(`document.getElementById("binder").innerText`)).includes(
        `${HOSTILE} → 127.0.0.1:4000 (30 s)`,
      ),
    );
    assertEquals(await page.evaluate<number>(`document.querySelectorAll("img").length`), 0);
    assertEquals(dialogs, []);

    // The member leaves.
    members.splice(0, 1);
    monitors.chat.event("signout", `${HOSTILE} signed out`, "127.0.0.1:40001");
    await page.waitFor(
      `!document.getElementById("chat").textContent.includes("onerror")`,
      "the member gone",
    );

    // The server cuts the stream; what happens meanwhile shows once the page reconnects by itself.
    assertEquals(hub.clientCount, 1);
    hub.disconnectAll();
    names.push("alice");
    monitors.registry.event("register", "alice registered", "127.0.0.1:40003");
    await page.waitFor(
      `document.getElementById("registry").innerText.includes("alice")`,
      "alice after reconnecting",
    );
    assertOk(
      (await page.evaluate<string>(`document.getElementById("events").innerText`)).includes(
        "alice registered",
      ),
    );
    assertEquals(streams.length, 2, "a second event stream, opened by the page itself");
    assertEquals(
      await page.evaluate<string>(`document.getElementById("status").textContent`),
      "live",
    );
    await Deno.mkdir(`${ROOT}.cache`, { recursive: true });
    await page.screenshot(`${ROOT}.cache/console-unit.png`);
  },
);
