/**
 * `socklab demo --serve --web` as an instructor uses it: the real CLI, the
 * page in headless chromium, and the lab's services driven the way students
 * would (datagrams, a TCP chat connection). Asserts what a person sees, and
 * that the page catches up by itself after its connection is cut.
 */
import { assertEquals, assertMatch, assertOk } from "../helpers/assert.ts";
import { ROOT, spawnCli } from "../helpers/cli.ts";
import { peerTest } from "../helpers/peers.ts";
import { SERVE_PLAN } from "../../lib/demo/services.ts";
import { launchChromium, type Page } from "../console/cdp.ts";
import { panelText, rowText, serviceLabels, serviceNumber } from "../console/console_page.ts";
import { CutProxy } from "../console/cut_proxy.ts";
import { parsePrometheusText } from "../console/prom_parser.ts";

/** Markup without blanks, so the registry's error reply quotes it whole. */
const HOSTILE = "<img/src=x/onerror=alert(1)>";
const ROW = /^(\S+(?: --udp)?) +(UDP|TCP) +127\.0\.0\.1:(\d+) +try: /;

/** The labels the console gives the plan's services (`exec-server 1`, `exec-server 2`). */
function labels(): string[] {
  const seen = new Map<string, number>();
  return SERVE_PLAN.map((name) => {
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return SERVE_PLAN.filter((p) => p === name).length > 1 ? `${name} ${n}` : name;
  });
}

/** Sends each text as one datagram to `port` and waits for its reply. */
async function ask(port: number, texts: string[]): Promise<string[]> {
  const sock = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const replies: string[] = [];
  try {
    for (const text of texts) {
      await sock.send(new TextEncoder().encode(text), {
        transport: "udp",
        hostname: "127.0.0.1",
        port,
      });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no reply to "${text}"`)), 3000);
      });
      const [data] = await Promise.race([sock.receive(), late]).finally(() => clearTimeout(timer));
      replies.push(new TextDecoder().decode(data));
    }
  } finally {
    sock.close();
  }
  return replies;
}

/** A chat member on a TCP connection. */
class ChatMember {
  constructor(readonly conn: Deno.TcpConn) {}
  static async join(port: number, name: string): Promise<ChatMember> {
    const m = new ChatMember(await Deno.connect({ hostname: "127.0.0.1", port }));
    await m.say(`signin ${name}`);
    return m;
  }
  async say(line: string): Promise<void> {
    await this.conn.write(new TextEncoder().encode(`${line}\n`));
  }
}

async function requestsOf(page: Page, service: string): Promise<number> {
  await page.waitFor(`${rowText(service)} !== ""`, `the ${service} row`);
  return await serviceNumber(page, service, "requests");
}

peerTest(
  "socklab demo --serve --web: the console shows the whole lab live, as text, and catches up after a cut",
  ["chromium"],
  async () => {
    await using lab = spawnCli(["demo", "--serve", "--web", "127.0.0.1:0"], { stdin: false });
    const urlLine = await lab.stdout.waitFor(/lab console at http:\/\/127\.0\.0\.1:\d+\//, 30_000);
    const consolePort = Number(/127\.0\.0\.1:(\d+)\//.exec(urlLine)![1]);
    const ports = new Map<string, number>();
    const names = labels();
    lab.stdout.lines.filter((l) => ROW.test(l)).forEach((l, i) =>
      ports.set(names[i], Number(ROW.exec(l)![3]))
    );
    assertEquals(ports.size, SERVE_PLAN.length, lab.stdout.text);

    await using proxy = new CutProxy({ hostname: "127.0.0.1", port: consolePort });
    await using browser = await launchChromium();
    const dialogs: unknown[] = [];
    browser.on((method, params) =>
      method === "Page.javascriptDialogOpening" && dialogs.push(params)
    );
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${proxy.port}/`);

    // Every service row, up, at the address the start-up table printed.
    await page.waitFor(
      `document.querySelectorAll("#services tbody tr").length === ${names.length}`,
      "every row",
    );
    assertEquals(await serviceLabels(page), names);
    for (const name of names) {
      assertMatch(
        await page.evaluate<string>(rowText(name)),
        new RegExp(`\\| 127\\.0\\.0\\.1:${ports.get(name)} \\| up \\|`),
        name,
      );
    }

    // Requests raise the counters; a hostile name comes back in an error, shown as text.
    const registry = ports.get("registry-server")!;
    const before = await requestsOf(page, "registry-server");
    const names20 = Array.from({ length: 20 }, (_, i) => `register dave${i}`);
    assertEquals((await ask(registry, names20)).filter((r) => r.startsWith("OK")).length, 20);
    await page.waitFor(
      `Number(${rowText("registry-server")}.split(" | ")[4]) >= ${before + 20}`,
      "20 more registry requests",
    );
    await page.waitFor(`${panelText("registry")}.includes("dave19")`, "dave19 registered");
    const [err] = await ask(registry, [`register ${HOSTILE}`]);
    assertMatch(err, /^ERR /);
    await page.waitFor(
      `${panelText("events")}.includes(${JSON.stringify(HOSTILE)})`,
      "the hostile name in the events",
    );
    await page.waitFor(
      `Number(${rowText("registry-server")}.split(" | ")[6]) >= 1`,
      "the error reply counted",
    );

    // The binder hands out both exec-servers.
    const binder = await page.waitFor<string>(
      `${panelText("binder")}.includes("MAX →") && ${panelText("binder")}`,
      "binder records",
    );
    for (const n of [1, 2]) {
      assertOk(
        binder.includes(`127.0.0.1:${ports.get(`exec-server ${n}`)} (`),
        binder,
      );
    }

    // A chat member appears after signin and leaves after signout.
    const carol = await ChatMember.join(ports.get("chat-server")!, "carol");
    try {
      await page.waitFor(`${panelText("chat")}.includes("carol")`, "carol signed in");
      await carol.say("signout carol");
      await page.waitFor(`!${panelText("chat")}.includes("carol")`, "carol gone");
    } finally {
      carol.conn.close();
    }
    assertEquals(
      await page.evaluate<number>(`document.querySelectorAll("img").length`),
      0,
      "no injected element",
    );
    assertEquals(dialogs, [], "no script ran");

    // The network blips: what happens meanwhile shows once the page reconnects by itself.
    const streams = proxy.accepted;
    proxy.refusing = true;
    proxy.cutAll();
    await page.waitFor(`${panelText("status")} !== "live"`, "the page noticing the cut");
    await ask(registry, ["register erin"]);
    assertOk(!(await page.evaluate<string>(panelText("registry"))).includes("erin"));
    proxy.refusing = false;
    await page.waitFor(
      `${panelText("status")} === "live" && ${panelText("registry")}.includes("erin")`,
      "erin after reconnecting",
    );
    assertOk(proxy.accepted > streams, "a new connection, opened by the page");
    await Deno.mkdir(`${ROOT}.cache`, { recursive: true });
    await page.screenshot(`${ROOT}.cache/console.png`);

    // /metrics agrees with the page and parses strictly.
    const metrics = parsePrometheusText(
      await (await fetch(`http://127.0.0.1:${consolePort}/metrics`)).text(),
    );
    const served = metrics.get("socklab_requests_total")!.samples.find((s) =>
      s.labels.service === "registry-server"
    );
    assertOk(served!.value >= before + 22, String(served?.value));

    lab.kill("SIGINT");
    const status = await lab.exit(15_000);
    assertEquals(status.code, 0, lab.stderr.text);
  },
);
