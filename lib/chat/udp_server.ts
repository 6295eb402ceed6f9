/**
 * The UDP chat server: one line per datagram, a room of signed-in addresses.
 * Each member's copy of a message is one datagram; a member whose send fails
 * is removed at once. Sends are not awaited one by one but bounded in number,
 * so a broadcast to many members never waits on any single one.
 *
 * ```sh
 * socklab chat-server --udp --port 5600
 * ```
 * @module
 */
import { formatAddr } from "../net/address.ts";
import { listenLine } from "../net/server.ts";
import { reason } from "../net/udp.ts";
import { serveUdp } from "../net/udp_serve.ts";
import { ChatRoom, type Outcome } from "./members.ts";
import {
  DEFAULT_MAX_LINE,
  type LeaveReason,
  logLines,
  parseRequest,
  tooLongLine,
} from "./protocol.ts";
import { type ChatServerOptions, DEFAULT_MAX_CLIENTS } from "./tcp_server.ts";

/** Sends in flight before the server waits for some to finish. */
const MAX_IN_FLIGHT = 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A datagram's line: trailing NULs (C clients send strlen+1) and one line end removed. */
export function datagramLine(data: Uint8Array): Uint8Array {
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  if (end > 0 && data[end - 1] === 0x0a) end--;
  if (end > 0 && data[end - 1] === 0x0d) end--;
  return data.subarray(0, end);
}

/** Serves the chat over UDP on a bound socket until the signal aborts. */
export async function runUdpChatServer(
  conn: Deno.DatagramConn,
  options: ChatServerOptions,
): Promise<void> {
  const log = options.log ?? console.log;
  const maxLine = options.maxLine ?? DEFAULT_MAX_LINE;
  const room = new ChatRoom<string>({ maxMembers: options.maxClients ?? DEFAULT_MAX_CLIENTS });
  const addrs = new Map<string, Deno.NetAddr>();
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const pending: [string, string | undefined][] = [];
  let walking = false;

  const drop = (key: string, why: LeaveReason) => apply(key, room.leave(key, why));

  const send = (key: string, to: Deno.NetAddr, bytes: Uint8Array) => {
    inFlight++;
    conn.send(bytes, to).then(sent, (err) => {
      sent();
      if (!options.signal.aborted && room.nameOf(key) !== undefined) {
        drop(key, { kind: "failed", reason: `send failed: ${reason(err)}` });
      }
    });
  };
  const sent = () => {
    inFlight--;
    if (drained && inFlight < MAX_IN_FLIGHT / 2) {
      drained();
      drained = undefined;
    }
  };

  const broadcast = (line: string, except: string | undefined) => {
    pending.push([line, except]);
    if (walking) return;
    walking = true;
    try {
      for (let next = pending.shift(); next; next = pending.shift()) {
        const bytes = encoder.encode(next[0]);
        for (const key of room.members()) {
          const to = addrs.get(key);
          if (key !== next[1] && to) send(key, to, bytes);
        }
      }
    } finally {
      walking = false;
    }
  };

  const apply = (key: string, outcome: Outcome<string>, from?: Deno.NetAddr) => {
    const event = outcome.event;
    if (event?.kind === "joined" && from) addrs.set(key, from);
    const to = from ?? addrs.get(key);
    if (outcome.reply !== undefined && to) send(key, to, encoder.encode(outcome.reply));
    if (event?.kind === "joined") log(logLines.joined(event.name, key));
    if (event?.kind === "left") {
      addrs.delete(key);
      log(logLines.left(event.name, key, event.why));
    }
    if (outcome.broadcast !== undefined) broadcast(outcome.broadcast, outcome.except);
  };

  log(listenLine("chat-server", conn.addr as Deno.NetAddr));
  await serveUdp(conn, (data, from) => {
    const key = formatAddr(from);
    const line = datagramLine(data);
    if (line.length > maxLine) {
      send(key, from, encoder.encode(tooLongLine(maxLine)));
    } else {
      apply(key, room.handle(key, parseRequest(decoder.decode(line))), from);
    }
    if (inFlight >= MAX_IN_FLIGHT) return new Promise<void>((resolve) => (drained = resolve));
  }, {
    signal: options.signal,
    maxDatagram: maxLine + 8,
    onError: (err, from) =>
      log(`socklab chat-server: ${from ? `${formatAddr(from)}: ` : ""}${reason(err)}`),
  });
  while (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
}
