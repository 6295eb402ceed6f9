/**
 * The lab console's HTTP server (`Deno.serve`), read-only:
 * ```text
 * GET /         the page (one HTML document, script and style inline)
 * GET /events   the live event stream (text/event-stream), see hub.ts
 * GET /metrics  Prometheus text format, see lab_metrics.ts
 * ```
 * Anything else is 404, any method but GET/HEAD 405. Bound to loopback, it
 * answers only requests whose Host names loopback, so a web page elsewhere
 * cannot read it through DNS rebinding.
 *
 * @example
 * ```ts
 * import { ConsoleHub } from "./hub.ts";
 * import { startConsoleServer } from "./server.ts";
 * const hub = new ConsoleHub();
 * const ac = new AbortController();
 * const server = await startConsoleServer(hub, { hostname: "127.0.0.1", port: 0, signal: ac.signal });
 * const res = await fetch(`http://127.0.0.1:${server.addr.port}/metrics`);
 * console.assert(res.ok && (await res.text()).includes("socklab_requests_total"));
 * ac.abort();
 * await server.finished;
 * ```
 * @module
 */
import { describeError, FailError } from "../cli/errors.ts";
import { formatHostPort } from "../net/address.ts";
import { reason } from "../net/udp.ts";
import type { ConsoleHub } from "./hub.ts";
import { formatMetrics, METRICS_CONTENT_TYPE } from "./metrics.ts";
import { type ConsolePage, consolePage } from "./page.ts";
import { SlowReaderError } from "./sse.ts";

/** Where and until when the console listens. */
export interface ConsoleServerOptions {
  hostname: string;
  /** 0 for any free port. */
  port: number;
  /** Stops the server: every event stream ends, then `finished` resolves. */
  signal: AbortSignal;
}

/** A listening console. */
export interface ConsoleServer {
  addr: Deno.NetAddr;
  /** The page's URL, e.g. `http://127.0.0.1:8080/`. */
  url: string;
  finished: Promise<void>;
}

const COMMON_HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

const SSE_HEADERS = { ...COMMON_HEADERS, "content-type": "text/event-stream; charset=utf-8" };

const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d+)?$/i;

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || hostname.startsWith("127.");
}

function plain(status: number, text: string, headers: Record<string, string> = {}): Response {
  return new Response(`${text}\n`, {
    status,
    headers: { ...COMMON_HEADERS, "content-type": "text/plain; charset=utf-8", ...headers },
  });
}

/** Answers one request (exported for tests that need no socket). */
export function route(
  req: Request,
  hub: ConsoleHub,
  page: ConsolePage,
  loopbackOnly: boolean,
): Response {
  if (req.method !== "GET" && req.method !== "HEAD") {
    return plain(405, "the lab console is read-only", { allow: "GET, HEAD" });
  }
  if (loopbackOnly && !LOOPBACK_HOST.test(req.headers.get("host") ?? "")) {
    return plain(421, "this console answers loopback host names only");
  }
  switch (new URL(req.url).pathname) {
    case "/":
      return new Response(page.html.slice(), {
        headers: {
          ...COMMON_HEADERS,
          "content-type": "text/html; charset=utf-8",
          "content-security-policy": page.csp,
        },
      });
    case "/events": {
      if (req.method === "HEAD") return new Response(null, { headers: SSE_HEADERS });
      const stream = hub.connect();
      if (!stream) return plain(503, "too many browsers on this console", { "retry-after": "5" });
      return new Response(stream.body, { headers: SSE_HEADERS });
    }
    case "/metrics":
      return new Response(formatMetrics(hub.metricFamilies()), {
        headers: { ...COMMON_HEADERS, "content-type": METRICS_CONTENT_TYPE },
      });
    case "/favicon.ico":
      return new Response(null, { status: 204, headers: COMMON_HEADERS });
    default:
      return plain(404, "not found: the console serves /, /events and /metrics");
  }
}

/** A dropped browser is routine; anything else is one line on stderr. */
function onError(err: unknown): Response {
  if (!(err instanceof SlowReaderError)) console.error(`socklab console: ${describeError(err)}`);
  return plain(500, "internal error");
}

/**
 * Listens on `hostname:port` and serves `hub` (ticking it) until the signal
 * aborts. Throws FailError naming the address when it cannot listen.
 */
export async function startConsoleServer(
  hub: ConsoleHub,
  options: ConsoleServerOptions,
): Promise<ConsoleServer> {
  const page = await consolePage();
  const loopbackOnly = isLoopback(options.hostname);
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve(
      { hostname: options.hostname, port: options.port, onListen: () => {}, onError },
      (req) => route(req, hub, page, loopbackOnly),
    );
  } catch (err) {
    const where = formatHostPort(options.hostname, options.port);
    throw new FailError(`cannot listen on HTTP ${where}: ${reason(err)}`);
  }
  const stop = () => {
    // Event streams never end by themselves: end them so shutdown can finish.
    hub.close();
    server.shutdown();
  };
  if (options.signal.aborted) stop();
  else options.signal.addEventListener("abort", stop, { once: true });
  hub.start();
  const addr = server.addr;
  // A wildcard address is not one a browser should be sent to: name loopback.
  const host = addr.hostname === "0.0.0.0"
    ? "127.0.0.1"
    : addr.hostname === "::"
    ? "::1"
    : addr.hostname;
  return {
    addr,
    url: `http://${formatHostPort(host, addr.port)}/`,
    finished: server.finished,
  };
}
