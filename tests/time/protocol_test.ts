import { assertEquals, assertOk, throws } from "../helpers/assert.ts";
import {
  classifyRequest,
  cristianOffset,
  decodeNtp,
  encodeNtp,
  formatIsoTime,
  formatLocalIsoTime,
  formatReferenceId,
  localOffsetMinutes,
  MODE_CLIENT,
  MODE_SERVER,
  NTP_ERA_MS,
  ntpClientRequest,
  ntpEstimate,
  ntpReplyProblem,
  type NtpServerClock,
  ntpServerReply,
  ntpToUnixMs,
  parseIsoTime,
  unixMsToNtp,
} from "../../lib/time/protocol.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const bytes = (...b: number[]) => new Uint8Array(b);
const ntpPacket = (first: number, size = 48) => {
  const p = new Uint8Array(size);
  p[0] = first;
  p.fill(0x9c, 40, 48); // a transmit timestamp: binary, as in every real request
  return p;
};

const CLASSIFY: [string, Uint8Array, string][] = [
  ["asks for the time with TIME", enc("TIME"), "text"],
  ["asks for the time with lower-case time and nc's newline", enc("time\n"), "text"],
  ["asks for the time with an empty datagram", bytes(), "text"],
  ["asks for the time with the C client's trailing NUL", enc("TIME\0"), "text"],
  ["asks for the time with blanks and CR LF around", enc("  Time \r\n"), "text"],
  ["answers other text with ERR", enc("hello"), "error"],
  ["answers 513 bytes of text with ERR", enc("a".repeat(513)), "error"],
  ["answers 65,507 bytes with ERR", new Uint8Array(65507).fill(0x41), "error"],
  ["answers one line of 10,000 words with ERR", enc("word ".repeat(10_000)), "error"],
  ["ignores binary", bytes(0xff, 0xfe, 0x00, 0x01), "ignore"],
  ["ignores inner NULs", enc("TI\0ME"), "ignore"],
  ["ignores invalid UTF-8", bytes(0x54, 0xc3, 0x28), "ignore"],
  ["ignores an ERR reply (no ping-pong between servers)", enc("ERR unknown request"), "ignore"],
  ["takes a 48-byte NTPv4 client packet as SNTP", ntpPacket(0x23), "ntp"],
  ["takes an NTPv3 client packet as SNTP", ntpPacket(0x1b), "ntp"],
  ["takes a client packet with a leap warning as SNTP", ntpPacket(0xe3), "ntp"],
  ["takes a 68-byte client packet (with a MAC) as SNTP", ntpPacket(0x23, 68), "ntp"],
  ["ignores a server-mode NTP packet", ntpPacket(0x24), "ignore"],
  ["ignores a control-mode (6) NTP packet", ntpPacket(0x16, 12), "ignore"],
  ["ignores a private-mode (7, monlist) NTP packet", ntpPacket(0x17, 8), "ignore"],
  ["ignores a 47-byte client-mode packet", ntpPacket(0x23, 47), "ignore"],
  ["ignores an NTPv5 client packet", ntpPacket(0x2b), "ignore"],
];

for (const [name, data, kind] of CLASSIFY) {
  Deno.test(`classifyRequest() ${name}`, () => {
    assertEquals(classifyRequest(data).kind, kind);
  });
}

Deno.test("classifyRequest() says why an over-long request is refused", () => {
  assertEquals(classifyRequest(enc("x".repeat(600))), {
    kind: "error",
    reason: "request too long (max 512 bytes)",
  });
});

const T = Date.UTC(2026, 10, 24, 6, 2, 11, 123);
const ISO: [string, number, number, string][] = [
  ["writes the SPEC's example with +02:00", T, 120, "2026-11-24T08:02:11.123+02:00"],
  ["writes UTC as +00:00", T, 0, "2026-11-24T06:02:11.123+00:00"],
  ["writes a negative half-hour offset", T, -570, "2026-11-23T20:32:11.123-09:30"],
  ["writes Nepal's +05:45", T, 345, "2026-11-24T11:47:11.123+05:45"],
  ["truncates fractions of a millisecond", T + 0.999, 0, "2026-11-24T06:02:11.123+00:00"],
  ["writes the Unix epoch", 0, 0, "1970-01-01T00:00:00.000+00:00"],
  [
    "crosses midnight and the year",
    Date.UTC(2026, 11, 31, 23, 59, 59, 999),
    60,
    "2027-01-01T00:59:59.999+01:00",
  ],
];

for (const [name, ms, offset, text] of ISO) {
  Deno.test(`formatIsoTime() ${name}`, () => {
    assertEquals(formatIsoTime(ms, offset), text);
  });
}

Deno.test("parseIsoTime() reads back what formatIsoTime() writes, offset included", () => {
  for (const [, ms, offset] of ISO) {
    const parsed = parseIsoTime(formatIsoTime(ms, offset));
    assertEquals(parsed, { unixMs: Math.floor(ms), offsetMinutes: offset });
  }
});

Deno.test("parseIsoTime() accepts Z, +hhmm and microseconds", () => {
  assertEquals(parseIsoTime("2026-11-24T06:02:11Z").unixMs, T - 123);
  assertEquals(parseIsoTime("2026-11-24T08:02:11.123+0200").unixMs, T);
  assertEquals(parseIsoTime("2026-11-24T06:02:11.123456+00:00").unixMs, T + 0.456);
});

for (
  const bad of ["", "now", "2026-13-01T00:00:00Z", "2026-11-24T06:02:11", "2026-11-24 06:02:11Z"]
) {
  Deno.test(`parseIsoTime() rejects "${bad}"`, () => {
    throws(() => parseIsoTime(bad), /not ISO 8601/, SyntaxError);
  });
}

Deno.test("cristianOffset() is server time + RTT/2 - local arrival time", () => {
  assertEquals(cristianOffset(1000, 10, 1000), { rttMs: 10, offsetMs: 5 });
  assertEquals(cristianOffset(5000, 4, 5010), { rttMs: 4, offsetMs: -8 });
});

const NTP_TIMES: [string, number, number, number][] = [
  ["the Unix epoch", 0, 2_208_988_800, 0],
  ["half a second", 500, 2_208_988_800, 2 ** 31],
  ["the last second of NTP era 0", Date.UTC(2036, 1, 7, 6, 28, 15), 2 ** 32 - 1, 0],
  ["the first second of NTP era 1 (wraps to 0)", Date.UTC(2036, 1, 7, 6, 28, 16), 0, 0],
  [
    "a time in era 1",
    Date.UTC(2040, 0, 1),
    Date.UTC(2040, 0, 1) / 1000 + 2_208_988_800 - 2 ** 32,
    0,
  ],
];

for (const [name, ms, seconds, fraction] of NTP_TIMES) {
  Deno.test(`unixMsToNtp() converts ${name}`, () => {
    assertEquals(unixMsToNtp(ms), { seconds, fraction });
  });
  Deno.test(`ntpToUnixMs() converts ${name} back, in the right era`, () => {
    assertEquals(ntpToUnixMs({ seconds, fraction }, ms + 1000 * 86400 * 365 * 20), ms);
    assertEquals(ntpToUnixMs({ seconds, fraction }, ms - 1000 * 86400 * 365 * 20), ms);
  });
}

Deno.test("ntpToUnixMs() keeps sub-millisecond fractions", () => {
  const ms = T + 0.25;
  const back = ntpToUnixMs(unixMsToNtp(ms), T);
  assertOk(Math.abs(back - ms) < 1e-3, `${back} vs ${ms}`);
});

Deno.test("ntpToUnixMs() picks era 0 before 2036 and era 1 after, from the pivot", () => {
  const stamp = { seconds: 100, fraction: 0 }; // era 0: 1900, era 1: 2036-02-07T06:29:56Z
  assertEquals(ntpToUnixMs(stamp, Date.UTC(2030, 0, 1)), Date.UTC(2036, 1, 7, 6, 29, 56));
  assertEquals(NTP_ERA_MS, 4294967296000);
});

const CLOCK: NtpServerClock = {
  stratum: 10,
  referenceId: new Uint8Array([127, 127, 1, 1]),
  precision: -20,
  rootDispersion: 0.001,
  referenceMs: T - 1000,
};

Deno.test("ntpServerReply() answers a v4 client request as RFC 4330 says", () => {
  const transmit = { seconds: 0xdeadbeef, fraction: 0x12345678 };
  const request = ntpClientRequest(transmit);
  request[2] = 6; // poll 2^6, copied
  const reply = ntpServerReply(request, T + 0.5, T + 0.75, CLOCK)!;
  assertEquals(reply.length, 48);
  const p = decodeNtp(reply);
  assertEquals(
    [p.leap, p.version, p.mode, p.stratum, p.poll, p.precision],
    [0, 4, MODE_SERVER, 10, 6, -20],
  );
  assertEquals(Array.from(p.referenceId), [127, 127, 1, 1]);
  assertEquals(p.originate, transmit, "originate = the client's transmit timestamp, bit for bit");
  assertEquals(Array.from(reply.subarray(24, 32)), Array.from(request.subarray(40, 48)));
  assertOk(Math.abs(ntpToUnixMs(p.receive, T) - (T + 0.5)) < 1e-3);
  assertOk(Math.abs(ntpToUnixMs(p.transmit, T) - (T + 0.75)) < 1e-3);
  assertEquals(ntpToUnixMs(p.reference, T), T - 1000);
  assertEquals(p.rootDelay, 0);
});

Deno.test("ntpServerReply() echoes the request's version (v3 in, v3 out)", () => {
  const request = ntpClientRequest({ seconds: 1, fraction: 2 }, 3);
  assertEquals(decodeNtp(ntpServerReply(request, T, T, CLOCK)!).version, 3);
});

Deno.test("ntpServerReply() ignores packets that are not client requests", () => {
  const request = ntpClientRequest({ seconds: 1, fraction: 2 });
  assertEquals(ntpServerReply(request.subarray(0, 47), T, T, CLOCK), null);
  const server = request.slice();
  server[0] = (server[0] & ~7) | MODE_SERVER;
  assertEquals(ntpServerReply(server, T, T, CLOCK), null);
});

Deno.test("encodeNtp() and decodeNtp() round-trip every field", () => {
  const packet = {
    leap: 3,
    version: 4,
    mode: MODE_CLIENT,
    stratum: 2,
    poll: -3,
    precision: -29,
    rootDelay: 0.25,
    rootDispersion: 1.5,
    referenceId: new Uint8Array([192, 0, 2, 1]),
    reference: { seconds: 1, fraction: 2 },
    originate: { seconds: 3, fraction: 4 },
    receive: { seconds: 5, fraction: 6 },
    transmit: { seconds: 2 ** 32 - 1, fraction: 2 ** 32 - 1 },
  };
  assertEquals(decodeNtp(encodeNtp(packet)), packet);
});

Deno.test("ntpEstimate() computes offset and delay from T1..T4 (RFC 5905 §8)", () => {
  assertEquals(ntpEstimate(0, 15, 16, 11), { offsetMs: 10, delayMs: 10 });
  assertEquals(ntpEstimate(100, 100.5, 100.5, 101), { offsetMs: 0, delayMs: 1 });
});

Deno.test("ntpReplyProblem() refuses a wrong mode, a foreign originate, a kiss-o'-death", () => {
  const sent = { seconds: 10, fraction: 20 };
  const good = decodeNtp(ntpServerReply(ntpClientRequest(sent), T, T, CLOCK)!);
  assertEquals(ntpReplyProblem(good, sent), null);
  assertOk(ntpReplyProblem({ ...good, mode: 3 }, sent)?.includes("mode 3"));
  assertOk(ntpReplyProblem(good, { seconds: 10, fraction: 21 })?.includes("originate"));
  const kiss = { ...good, stratum: 0, referenceId: enc("RATE") };
  assertEquals(ntpReplyProblem(kiss, sent), `kiss-o'-death "RATE" from the server`);
  assertOk(ntpReplyProblem({ ...good, transmit: { seconds: 0, fraction: 0 } }, sent));
});

Deno.test("formatReferenceId() shows letters for stratum 1 and an address above", () => {
  assertEquals(formatReferenceId(new Uint8Array([0x47, 0x50, 0x53, 0]), 1), "GPS");
  assertEquals(formatReferenceId(new Uint8Array([192, 0, 2, 1]), 2), "192.0.2.1");
});

Deno.test("formatLocalIsoTime() agrees with formatIsoTime() in this zone, across minutes", () => {
  const start = Date.UTC(2026, 2, 29, 0, 58, 58, 990); // around a European DST change
  for (let ms = start; ms < start + 3 * 3600_000; ms += 7_777.25) {
    assertEquals(formatLocalIsoTime(ms), formatIsoTime(ms, localOffsetMinutes(ms)), `${ms}`);
  }
  for (const ms of [0, -1, 59_999, 60_000, T, T + 0.999]) {
    assertEquals(formatLocalIsoTime(ms), formatIsoTime(ms, localOffsetMinutes(ms)), `${ms}`);
  }
});

Deno.test("formatLocalIsoTime() follows the zone's offset (TZ=Europe/Berlin in a subprocess)", async () => {
  const code = `import { formatLocalIsoTime } from "${
    new URL("../../lib/time/protocol.ts", import.meta.url).href
  }";
console.log(formatLocalIsoTime(Date.UTC(2026, 2, 29, 0, 59, 59, 5)));
console.log(formatLocalIsoTime(Date.UTC(2026, 2, 29, 1, 0, 0, 50)));
console.log(formatLocalIsoTime(Date.UTC(2026, 10, 24, 6, 2, 11, 123)));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    env: { TZ: "Europe/Berlin" },
    stdout: "piped",
  }).output();
  assertEquals(new TextDecoder().decode(out.stdout).trim().split("\n"), [
    "2026-03-29T01:59:59.005+01:00",
    "2026-03-29T03:00:00.050+02:00",
    "2026-11-24T07:02:11.123+01:00",
  ]);
});
