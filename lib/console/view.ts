/**
 * What the lab console's page is sent, as pure code: services' states and
 * events turned into small JSON-ready records, with every network-supplied
 * string clipped and every list capped, so one hostile name or a thousand
 * members cannot make a message large. The page shows these strings as text.
 *
 * @example
 * ```ts
 * import { stateView } from "./view.ts";
 * const v = stateView("registry-server", { kind: "registry", names: ["alice", "bob"] });
 * console.assert(v.kind === "registry" && v.count === 2);
 * ```
 * @module
 */
import type { MemberState, RecordState, ServiceEvent, ServiceState } from "../net/monitor.ts";

/** Longest network-supplied string sent to the page (longer ones end with "…"). */
export const MAX_TEXT = 200;
/** Most list entries (members, names, records) sent per service; the count says the rest. */
export const MAX_ITEMS = 200;

/** `text` cut to `max` characters (whole code points), "…" marking a cut. */
export function clip(text: string, max = MAX_TEXT): string {
  if (text.length <= max) return text;
  const chars = Array.from(text);
  return chars.length <= max ? text : chars.slice(0, max - 1).join("") + "…";
}

/** `n` rounded to `digits` decimals (numbers in messages stay short). */
export function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** A chat service's panel. */
export interface ChatView {
  kind: "chat";
  service: string;
  members: { name: string; peer: string; instance?: string }[];
  count: number;
  lines: number;
  /** Lines relayed per second over the last tick. */
  lineRate: number;
  droppedSlow: number;
  droppedDead: number;
}

/** A binder's panel: each command and the servers that offer it. */
export interface BinderView {
  kind: "binder";
  service: string;
  commands: { command: string; servers: { address: string; expiresInS: number }[] }[];
  count: number;
}

/** A registry's panel. */
export interface RegistryView {
  kind: "registry";
  service: string;
  names: string[];
  count: number;
}

/** One panel. */
export type StateView = ChatView | BinderView | RegistryView;

function memberView(m: MemberState): ChatView["members"][number] {
  const v: ChatView["members"][number] = { name: clip(m.name), peer: clip(m.peer) };
  if (m.instance !== undefined) v.instance = clip(m.instance);
  return v;
}

function binderCommands(records: readonly RecordState[]): BinderView["commands"] {
  const byCommand = new Map<string, { address: string; expiresInS: number }[]>();
  for (const r of records.slice(0, MAX_ITEMS)) {
    const host = r.host.includes(":") ? `[${r.host}]` : r.host;
    const servers = byCommand.get(r.command) ?? [];
    servers.push({
      address: clip(`${host}:${r.port}`),
      expiresInS: Math.max(0, Math.ceil(r.expiresInMs / 1000)),
    });
    byCommand.set(r.command, servers);
  }
  return [...byCommand].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(
    ([command, servers]) => ({
      command: clip(command),
      servers: servers.sort((a, b) => (a.address < b.address ? -1 : 1)),
    }),
  );
}

/** The panel of service `service` in `state`; `lineRate` is the chat's lines/s. */
export function stateView(service: string, state: ServiceState, lineRate = 0): StateView {
  switch (state.kind) {
    case "chat":
      return {
        kind: "chat",
        service,
        members: state.members.slice(0, MAX_ITEMS).map(memberView),
        count: state.members.length,
        lines: state.lines,
        lineRate: round(lineRate, 2),
        droppedSlow: state.droppedSlow,
        droppedDead: state.droppedDead,
      };
    case "binder":
      return {
        kind: "binder",
        service,
        commands: binderCommands(state.records),
        count: state.records.length,
      };
    case "registry":
      return {
        kind: "registry",
        service,
        names: state.names.slice(0, MAX_ITEMS).map((n) => clip(n)),
        count: state.names.length,
      };
  }
}

/** An event as the page lists it. */
export interface EventView {
  time: number;
  service: string;
  kind: string;
  text: string;
  peer?: string;
}

/** `e` with its network-supplied strings clipped. */
export function eventView(e: ServiceEvent): EventView {
  const v: EventView = { time: e.time, service: e.service, kind: e.kind, text: clip(e.text) };
  if (e.peer !== undefined) v.peer = clip(e.peer, 64);
  return v;
}
