/** Table tests for the pure /proc/net socket-table parser. */
import {
  decodeAddress,
  decodeEndpoint,
  parseProcNet,
  parseRow,
  socketInode,
  TCP_STATES,
} from "../../lib/sys/proc_net.ts";
import { assertEquals, throws } from "../helpers/assert.ts";

const ADDRESSES: [string, string, string][] = [
  // [text, little-endian hex, big-endian hex]
  ["127.0.0.1", "0100007F", "7F000001"],
  ["10.1.2.3", "0302010A", "0A010203"],
  ["0.0.0.0", "00000000", "00000000"],
  ["::1", "00000000000000000000000001000000", "00000000000000000000000000000001"],
  ["::", "00000000000000000000000000000000", "00000000000000000000000000000000"],
  ["::ffff:127.0.0.1", "0000000000000000FFFF00000100007F", "00000000000000000000FFFF7F000001"],
  ["fe80::1", "000080FE000000000000000001000000", "FE800000000000000000000000000001"],
  ["2001:db8::1:0:0:1", "B80D0120000000000000010001000000", "20010DB8000000000001000000000001"],
  ["2001:db8:0:1::", "B80D0120010000000000000000000000", "20010DB8000000010000000000000000"],
];

for (const [text, le, be] of ADDRESSES) {
  Deno.test(`decodeAddress() reads ${le} from a little-endian kernel as ${text}`, () => {
    assertEquals(decodeAddress(le, true), text);
    assertEquals(decodeAddress(le.toLowerCase(), true), text);
  });
  Deno.test(`decodeAddress() reads ${be} from a big-endian kernel as ${text}`, () => {
    assertEquals(decodeAddress(be, false), text);
  });
}

for (const bad of ["", "0100007", "0100007F0", "XYZ0007F", "00000000000000000000000000000000FF"]) {
  Deno.test(`decodeAddress() rejects "${bad}"`, () => {
    throws(() => decodeAddress(bad, true), /Cannot parse address/, SyntaxError);
  });
}

Deno.test("decodeEndpoint() reads the port as a plain hex number in either byte order", () => {
  assertEquals(decodeEndpoint("0100007F:1F90", true), { address: "127.0.0.1", port: 8080 });
  assertEquals(decodeEndpoint("7F000001:1F90", false), { address: "127.0.0.1", port: 8080 });
  assertEquals(decodeEndpoint("00000000:0000", true), { address: "0.0.0.0", port: 0 });
  throws(() => decodeEndpoint("0100007F", true), /expected ADDR:PORT/, SyntaxError);
  throws(() => decodeEndpoint("0100007F:1F9", true), /expected ADDR:PORT/, SyntaxError);
});

const HEADER =
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

function tcpRow(state: string, inode = "4242"): string {
  return `   0: 0100007F:1F90 0100007F:D431 ${state} 0000000A:00000014 00:00000000 00000000  1000        0 ${inode} 1 0000000000000000 20 4 30 10 -1\n`;
}

const STATES: [string, string][] = [
  ["01", "ESTABLISHED"],
  ["02", "SYN_SENT"],
  ["03", "SYN_RECV"],
  ["04", "FIN_WAIT1"],
  ["05", "FIN_WAIT2"],
  ["06", "TIME_WAIT"],
  ["07", "CLOSE"],
  ["08", "CLOSE_WAIT"],
  ["09", "LAST_ACK"],
  ["0A", "LISTEN"],
  ["0B", "CLOSING"],
  ["0C", "SYN_RECV"],
];

for (const [code, name] of STATES) {
  Deno.test(`parseRow() names TCP state ${code} ${name}`, () => {
    const row = parseRow(tcpRow(code), { proto: "tcp", family: "inet", littleEndian: true });
    assertEquals(row.state, name);
    assertEquals(row.stateCode, parseInt(code, 16));
  });
}

Deno.test("TCP_STATES covers every state the kernel has (1 to 12)", () => {
  for (let k = 1; k <= 12; k++) assertEquals(typeof TCP_STATES[k], "string");
});

Deno.test("parseRow() reads addresses, queues (hex), uid and inode", () => {
  const row = parseRow(tcpRow("01"), { proto: "tcp", family: "inet", littleEndian: true });
  assertEquals(row, {
    proto: "tcp",
    family: "inet",
    local: { address: "127.0.0.1", port: 8080 },
    remote: { address: "127.0.0.1", port: 54321 },
    state: "ESTABLISHED",
    stateCode: 1,
    recvQ: 20,
    sendQ: 10,
    uid: 1000,
    inode: 4242,
  });
});

Deno.test("parseRow() shows an unconnected UDP socket with no state and a connected one as ESTABLISHED", () => {
  const info = { proto: "udp" as const, family: "inet" as const, littleEndian: true };
  const line = (st: string) =>
    `  371: 0100007F:05DC 00000000:0000 ${st} 00000000:00000000 00:00000000 00000000     0        0 5555 2 0000000000000000 0\n`;
  assertEquals(parseRow(line("07"), info).state, null);
  assertEquals(parseRow(line("01"), info).state, "ESTABLISHED");
});

Deno.test("parseRow() unknown states keep their number", () => {
  const row = parseRow(tcpRow("0F"), { proto: "tcp", family: "inet", littleEndian: true });
  assertEquals(row.state, "UNKNOWN(15)");
});

Deno.test("parseProcNet() reads a real IPv6 table with an IPv4-mapped peer", () => {
  const text =
    "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
    "   0: 00000000000000000000000000000000:AD5D 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 100 0 0 10 0\n" +
    "   1: 0000000000000000FFFF00000100007F:AD5D 0000000000000000FFFF00000100007F:97FC 01 00000000:00000000 00:00000000 00000000     0        0 778 1 0000000000000000 20 4 29 10 -1\n";
  const rows = parseProcNet(text, { proto: "tcp", family: "inet6", littleEndian: true });
  assertEquals(
    rows.map((r) => [r.local.address, r.local.port, r.remote.address, r.remote.port, r.state]),
    [
      ["::", 44381, "::", 0, "LISTEN"],
      ["::ffff:127.0.0.1", 44381, "::ffff:127.0.0.1", 38908, "ESTABLISHED"],
    ],
  );
});

Deno.test("parseProcNet() reads a TIME_WAIT row (inode 0) and skips malformed lines", () => {
  const text = HEADER +
    "   1: 020200C0:9F44 507100CB:01BB 06 00000000:00000000 03:00001185 00000000     0        0 0 3 000000005b848136\n" +
    "garbage line\n" +
    "   2: 0100007F:XXXX 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n" +
    "\n";
  const rows = parseProcNet(text, { proto: "tcp", family: "inet", littleEndian: true });
  assertEquals(rows.length, 1);
  assertEquals(rows[0].local, { address: "192.0.2.2", port: 40772 });
  assertEquals(rows[0].remote, { address: "203.0.113.80", port: 443 });
  assertEquals([rows[0].state, rows[0].inode], ["TIME_WAIT", 0]);
});

Deno.test("parseProcNet() of an empty table (header only) is empty", () => {
  assertEquals(parseProcNet(HEADER, { proto: "udp", family: "inet6" }), []);
  assertEquals(parseProcNet("", { proto: "udp", family: "inet6" }), []);
});

for (
  const [link, inode] of [["socket:[12345]", 12345], ["pipe:[12]", null], ["/dev/null", null], [
    "socket:[]",
    null,
  ]] as const
) {
  Deno.test(`socketInode() reads "${link}" as ${inode}`, () => {
    assertEquals(socketInode(link), inode);
  });
}
