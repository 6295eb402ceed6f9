/**
 * The lab console's one page: HTML, CSS and script inline, no CDN, no web
 * fonts, sparklines drawn as inline SVG. It listens to `/events` (SSE) and
 * builds every element with `textContent`/`setAttribute`, never markup from
 * data, so a name like `<img src=x onerror=alert(1)>` shows as those
 * characters. The Content-Security-Policy allows only this script and style
 * (by hash) and connections to this origin.
 *
 * @example
 * ```ts
 * import { consolePage } from "./page.ts";
 * const page = await consolePage();
 * console.assert(page.html.byteLength < 16_000 && page.csp.includes("script-src 'sha256-"));
 * ```
 * @module
 */

const STYLE = `
body{font:14px/1.35 system-ui,sans-serif;margin:0 1em 1em;color:#1d2330;background:#f6f7f9}
header{display:flex;gap:1em;align-items:baseline}h1{font-size:1.3em}h2{font-size:1.05em;margin:1em 0 .3em}
h3{font-size:.95em;margin:.4em 0 .2em}small,.dim{color:#687083}
table{border-collapse:collapse;background:#fff}td,th{padding:.2em .55em;border-bottom:1px solid #e2e5ea;text-align:left;white-space:nowrap}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.spark{width:64px;height:18px;vertical-align:middle;margin-left:.4em;background:#eef1f5}
.spark polyline{fill:none;stroke:#3465a4;stroke-width:1.5;vector-effect:non-scaling-stroke}
.err .spark polyline{stroke:#c4302b}
.badge{padding:0 .5em;border-radius:.6em;color:#fff;background:#2e7d32}.badge.down{background:#c4302b}
#status.live{background:#2e7d32}#status{background:#b26a00}
.cols{display:flex;flex-wrap:wrap;gap:0 2.5em}.cols section{min-width:16em}
ul,ol{margin:.2em 0;padding-left:1.2em}ul.flow{padding:0;max-width:34em}ul.flow li{display:inline-block;margin-right:.8em}#events{list-style:none;padding:.3em .5em;font-family:ui-monospace,monospace;font-size:12.5px;max-height:24em;overflow:auto;background:#fff}
.kind{display:inline-block;min-width:6.5em}.ev-error .kind{color:#c4302b}
`;

const SCRIPT = `"use strict";
const $ = (id) => document.getElementById(id), NS = "http://www.w3.org/2000/svg", KEEP = 100;
let points = 180, series = new Map(), source;
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
function spark(values) {
  const svg = document.createElementNS(NS, "svg"), line = document.createElementNS(NS, "polyline");
  svg.setAttribute("viewBox", "0 0 100 20");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("class", "spark");
  const max = Math.max(1e-9, ...values.filter((v) => v !== null)), n = Math.max(points - 1, 1);
  const off = points - values.length, xy = [];
  values.forEach((v, i) => { if (v !== null) xy.push(((off + i) * 100 / n).toFixed(1) + "," + (19 - v / max * 18).toFixed(1)); });
  line.setAttribute("points", xy.join(" "));
  svg.append(line);
  return svg;
}
const plural = (n, word) => n + " " + word + (n === 1 ? "" : "s");
const rate = (v) => v < 10 ? v.toFixed(1) : String(Math.round(v));
const ms = (v) => v === null ? "–" : v < 1 ? Math.round(v * 1000) + " µs" : v.toFixed(1) + " ms";
function cell(text, values, cls) {
  const td = el("td", undefined, "n" + (cls ? " " + cls : ""));
  td.append(el("span", text));
  if (values) td.append(spark(values));
  return td;
}
function renderServices(list) {
  const rows = list.map((s) => {
    const h = series.get(s.label), udp = s.transport === "udp", tr = el("tr");
    tr.dataset.service = s.label;
    tr.append(el("td", s.label), el("td", s.transport.toUpperCase()), el("td", s.address));
    const st = el("td"); st.append(el("span", s.up ? "up" : "down", s.up ? "badge" : "badge down")); tr.append(st);
    tr.append(cell(s.requests, null, "requests"), cell(rate(s.rate), h.rate, "rate"),
      cell(s.errors, null, "errors"), cell(rate(s.errorRate), h.errorRate, "err"),
      udp ? cell(ms(s.p50), h.p50, "p50") : cell("–"), udp ? cell(ms(s.p99), h.p99, "p99") : cell("–"));
    return tr;
  });
  $("services").tBodies[0].replaceChildren(...rows);
}
function chat(v) {
  const div = el("div"), ul = el("ul");
  div.dataset.service = v.service;
  div.append(el("h3", v.service + " — " + v.count + " signed in"),
    el("div", "lines/s " + rate(v.lineRate) + " · dropped: " + v.droppedSlow + " slow, " + v.droppedDead + " dead", "dim"));
  for (const m of v.members) {
    const li = el("li");
    li.append(el("span", m.name, "name"), el("span", " " + m.peer + (m.instance ? " on " + m.instance : ""), "dim"));
    ul.append(li);
  }
  if (v.count > v.members.length) ul.append(el("li", "… " + (v.count - v.members.length) + " more", "dim"));
  div.append(ul);
  return div;
}
function binder(v) {
  const div = el("div"), ul = el("ul");
  div.append(el("h3", v.service + " — " + plural(v.count, "record")));
  for (const c of v.commands) {
    ul.append(el("li", c.command + " → " + c.servers.map((s) => s.address + " (" + s.expiresInS + " s)").join(", ")));
  }
  div.append(ul);
  return div;
}
function registry(v) {
  const div = el("div"), ul = el("ul", undefined, "flow");
  div.append(el("h3", v.service + " — " + plural(v.count, "name")));
  for (const n of v.names) ul.append(el("li", n));
  div.append(ul);
  return div;
}
const PANELS = { chat, binder, registry };
function renderStates(states) {
  for (const kind of Object.keys(PANELS)) {
    const mine = states.filter((v) => v.kind === kind).map(PANELS[kind]);
    $(kind).replaceChildren(...(mine.length ? mine : [el("p", "–", "dim")]));
  }
}
function eventItem(e) {
  const li = el("li", undefined, "ev-" + e.kind);
  li.append(el("span", new Date(e.time).toLocaleTimeString() + " ", "dim"), el("span", e.kind, "kind"),
    el("span", " " + e.service + (e.peer ? " " + e.peer : "") + ": ", "dim"), el("span", e.text, "text"));
  return li;
}
function addEvents(list, replace) {
  const ol = $("events");
  if (replace) ol.replaceChildren();
  ol.prepend(...list.map(eventItem));
  while (ol.children.length > KEEP) ol.lastChild.remove();
}
function onSnapshot(d) {
  points = d.points;
  series = new Map(d.services.map((s) => [s.label, s.series]));
  renderServices(d.services); renderStates(d.states); addEvents(d.events, true);
}
function onTick(d) {
  for (const s of d.services) {
    const h = series.get(s.label) || { rate: [], errorRate: [], p50: [], p99: [] };
    for (const k of Object.keys(h)) { h[k].push(s.point[k]); if (h[k].length > points) h[k].shift(); }
    series.set(s.label, h);
  }
  renderServices(d.services); renderStates(d.states);
  $("updated").textContent = "updated " + new Date().toLocaleTimeString();
}
function status(text, live) { $("status").textContent = text; $("status").className = live ? "badge live" : "badge"; }
function connect() {
  source = new EventSource("events");
  source.onopen = () => status("live", true);
  source.onerror = () => {
    status("reconnecting…", false);
    if (source.readyState === EventSource.CLOSED) setTimeout(connect, 3000);
  };
  const on = (name, fn) => source.addEventListener(name, (m) => fn(JSON.parse(m.data)));
  on("snapshot", onSnapshot); on("tick", onTick);
  on("events", (d) => { addEvents(d.events, false); renderStates(d.states); });
}
connect();
`;

const BODY = `<header><h1>socklab lab console</h1><span id="status" class="badge">connecting…</span>
<small id="updated"></small></header>
<section><h2>Services</h2><table id="services"><thead><tr><th>service</th><th>transport</th>
<th>address</th><th>state</th><th>requests</th><th>req/s</th><th>errors</th><th>err/s</th>
<th>p50</th><th>p99</th></tr></thead><tbody></tbody></table></section>
<div class="cols"><section><h2>Chat</h2><div id="chat"></div></section>
<section><h2>Binder</h2><div id="binder"></div></section>
<section><h2>Registry</h2><div id="registry"></div></section></div>
<section><h2>Events <small>newest first</small></h2><ol id="events"></ol></section>`;

/** The page's bytes and the Content-Security-Policy that goes with them. */
export interface ConsolePage {
  html: Uint8Array;
  csp: string;
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

/** Builds the page and its CSP (the script and style allowed by their hashes). */
export async function consolePage(): Promise<ConsolePage> {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>socklab lab console</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>${STYLE}</style></head><body>
${BODY}
<script>${SCRIPT}</script></body></html>
`;
  const csp = [
    "default-src 'none'",
    `script-src 'sha256-${await sha256(SCRIPT)}'`,
    `style-src 'sha256-${await sha256(STYLE)}'`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
  return { html: new TextEncoder().encode(html), csp };
}
