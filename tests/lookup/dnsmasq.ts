/**
 * A real DNS server for the tests: dnsmasq on 127.0.0.1 with a free port (or
 * inside a test's network namespace), serving a fixed test zone under
 * `test.`. Unknown names under `test.` get NXDOMAIN; nothing is forwarded.
 * @module
 */
import { LineLog } from "../helpers/cli.ts";

/** A name as DNS wire bytes, hex (for --dns-rr). */
export function wireName(name: string): string {
  const labels = name.replace(/\.$/, "").split(".").filter(Boolean);
  const enc = new TextEncoder();
  return labels.map((l) => {
    const b = enc.encode(l);
    return b.length.toString(16).padStart(2, "0") + hex(b);
  }).join("") + "00";
}

/** Lower-case hex of bytes. */
export function hex(bytes: Uint8Array | number[]): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const u32 = (n: number) => n.toString(16).padStart(8, "0");
const cs = (text: string | number[]) => {
  const b = typeof text === "string" ? Array.from(new TextEncoder().encode(text)) : text;
  return b.length.toString(16).padStart(2, "0") + hex(b);
};

/** The test zone: dnsmasq options, and the (name, type) pairs worth asking. */
export const ZONE = {
  options: [
    "--local=/test/",
    "--local-ttl=300",
    "--address=/a.test/10.0.0.1",
    "--address=/multi.test/10.0.0.3",
    "--address=/multi.test/10.0.0.4",
    "--host-record=h.test,10.0.0.2,fd00::2",
    "--host-record=v6only.test,fd00::6",
    "--cname=c.test,h.test",
    "--mx-host=mx.test,mail.test,10",
    "--mx-host=mx.test,backup.test,20",
    '--txt-record=t.test,v=spf1 -all,second "q"',
    "--ptr-record=9.0.0.10.in-addr.arpa,ptr-only.test",
    "--srv-host=_sip._tcp.s.test,sip.test,5060,1,2",
    "--srv-host=_sip._tcp.s.test,sip2.test,5061,2,0",
    "--naptr-record=n.test,100,10,S,SIP+D2U,!^.*$!sip:a@b!,_sip._udp.n.test",
    // Records dnsmasq has no option for, as raw rdata (type number, hex):
    `--dns-rr=soa.test,6,${wireName("ns1.soa.test")}${wireName("admin.soa.test")}${
      u32(2026112401)
    }${u32(3600)}${u32(900)}${u32(604800)}${u32(86400)}`,
    `--dns-rr=soa.test,2,${wireName("ns1.soa.test")}`,
    `--dns-rr=soa.test,2,${wireName("ns2.soa.test")}`,
    `--dns-rr=caa.test,257,00${cs("issue")}${hex(new TextEncoder().encode('ca.test; x="y"'))}`,
    `--dns-rr=caa.test,257,80${cs("iodef")}${hex(new TextEncoder().encode("mailto:a@b.test"))}`,
    `--dns-rr=hinfo.test,13,${cs("PDP-11")}${cs("UNIX V6")}`,
    // TXT strings with quotes, backslashes, UTF-8, NUL and DEL: escaping must match dig.
    `--dns-rr=weird.test,16,${cs('a"\\;')}${cs("h\u00e9llo")}${cs([0, 0x7f, 0x20])}${cs("")}`,
    `--dns-rr=unknown.test,65280,${hex(Array.from({ length: 70 }, (_, k) => k))}`,
    "--dns-rr=empty.test,65281",
    // Enough TXT data to overflow a 1232-byte UDP reply: forces TCP.
    ...Array.from(
      { length: 12 },
      (_, k) => `--txt-record=big.test,${String(k).padStart(2, "0")}${"x".repeat(150)}`,
    ),
  ],
  queries: [
    ["a.test", "A"],
    ["multi.test", "A"],
    ["h.test", "A"],
    ["h.test", "AAAA"],
    ["h.test", "ANY"],
    ["v6only.test", "AAAA"],
    ["c.test", "A"],
    ["c.test", "CNAME"],
    ["mx.test", "MX"],
    ["t.test", "TXT"],
    ["weird.test", "TXT"],
    ["9.0.0.10.in-addr.arpa", "PTR"],
    ["2.0.0.10.in-addr.arpa", "PTR"],
    ["2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa", "PTR"],
    ["_sip._tcp.s.test", "SRV"],
    ["n.test", "NAPTR"],
    ["soa.test", "SOA"],
    ["soa.test", "NS"],
    ["caa.test", "CAA"],
    ["hinfo.test", "HINFO"],
    ["unknown.test", "TYPE65280"],
    ["empty.test", "TYPE65281"],
    ["big.test", "TXT"],
  ] as [string, string][],
};

/** A running dnsmasq. Dispose to stop it. */
export class Dnsmasq implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly log = new LineLog();
  readonly port: number;
  readonly #pump: Promise<void>;

  constructor(port: number, options: string[], prefix: string[] = []) {
    this.port = port;
    const args = [
      "--conf-file=/dev/null",
      "--pid-file=",
      "--no-daemon",
      "--no-resolv",
      "--no-hosts",
      "--log-facility=-",
      "--listen-address=127.0.0.1",
      "--bind-interfaces",
      `--port=${port}`,
      ...options,
    ];
    const [cmd, ...pre] = [...prefix, "dnsmasq"];
    this.child = new Deno.Command(cmd, {
      args: [...pre, ...args],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr = this.child.stderr;
    this.#pump = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of stderr) this.log.push(decoder.decode(chunk, { stream: true }));
      this.log.end();
    })();
  }

  /** Waits for dnsmasq's start-up line (it logs it after binding its sockets). */
  async ready(): Promise<void> {
    const line = await Promise.race([
      this.log.waitFor(/started, version|failed to create listening socket|FAILED/, 10_000),
      this.child.status.then(() => "exited"),
    ]);
    if (!/started/.test(line)) throw new Error(`dnsmasq did not start: ${line}\n${this.log.text}`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await this.child.status;
    await this.#pump;
  }
}

function freeUdpPort(): number {
  const sock = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (sock.addr as Deno.NetAddr).port;
  sock.close();
  return port;
}

/** Starts dnsmasq serving ZONE on 127.0.0.1 at a free port (retrying if the port was taken). */
export async function startDnsmasq(extra: string[] = []): Promise<Dnsmasq> {
  let last: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const server = new Dnsmasq(freeUdpPort(), [...ZONE.options, ...extra]);
    try {
      await server.ready();
      return server;
    } catch (err) {
      last = err;
      await server[Symbol.asyncDispose]();
    }
  }
  throw last;
}

/** Runs a command to completion; stdout, stderr and exit code. */
export async function run(
  cmd: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", stdin: "null" })
    .output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
