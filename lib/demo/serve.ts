/**
 * `socklab demo --serve`: starts every service of the lab table on one
 * address, prints one line per service (name, transport, address:port, and a
 * client command to try), then each service's log lines prefixed with its
 * name, until the signal (Ctrl-C) stops them all.
 *
 * ```sh
 * socklab demo --serve                          # loopback, free ports
 * socklab demo --serve --bind 10.0.0.5 --default-ports   # a class points clients here
 * socklab demo --serve --web 8080                # and the lab console at http://127.0.0.1:8080/
 * ```
 *
 * With `web`, each service gets a monitor (lib/net/monitor.ts) and the lab
 * console (lib/console) serves them; it listens before any service starts, so
 * a busy console port fails the command without starting the lab.
 * @module
 */
import { describeError, FailError } from "../cli/errors.ts";
import { formatTable } from "../loadgen/format.ts";
import type { HostPort } from "../net/address.ts";
import { aborted } from "../net/server.ts";
import { ConsoleHub } from "../console/hub.ts";
import { type ConsoleServer, startConsoleServer } from "../console/server.ts";
import { TimedMonitor } from "../console/timed_monitor.ts";
import {
  addressText,
  type LabService,
  labService,
  reachable,
  type RunningService,
  SERVE_PLAN,
} from "./services.ts";

/** Options of {@linkcode serveLab}. */
export interface ServeLabOptions {
  /** Ctrl-C: stops every service; `serveLab` then resolves. */
  signal: AbortSignal;
  /** Address every service binds (default 127.0.0.1). */
  bind?: string;
  /** Bind the SPEC §7 ports instead of free ones. */
  defaultPorts?: boolean;
  /** Leave out the services' log lines (the address table is always printed). */
  quiet?: boolean;
  /** Services to start, in order (default {@linkcode SERVE_PLAN}). */
  plan?: readonly string[];
  /** Where stdout lines go (default console.log). */
  print?: (line: string) => void;
  /** Where stderr lines go (default console.error). */
  printErr?: (line: string) => void;
  /** Serve the lab console (page, /events, /metrics) on this address. */
  web?: HostPort;
}

/** Longest wait for one service to stop before the next is stopped. */
const STOP_WAIT_MS = 5000;

interface Started {
  service: LabService;
  label: string;
  run: RunningService;
  stop: AbortController;
}

/** One run of the lab: the services started so far, their logs, the console. */
class LabRun {
  readonly started: Started[] = [];
  failed = false;
  readonly print: (line: string) => void;
  readonly printErr: (line: string) => void;
  readonly bind: string;
  readonly plan: readonly string[];
  hub?: ConsoleHub;
  console?: ConsoleServer;
  readonly #consoleStop = new AbortController();
  // Log lines wait until the address table is out, then flow live.
  #held: string[] | undefined = [];

  constructor(readonly options: ServeLabOptions) {
    this.print = options.print ?? console.log;
    this.printErr = options.printErr ?? console.error;
    this.bind = options.bind ?? "127.0.0.1";
    this.plan = options.plan ?? SERVE_PLAN;
  }

  logFor(label: string): (line: string) => void {
    return (line) => {
      if (this.options.quiet) return;
      const text = `[${label}] ${line}`;
      if (this.#held) this.#held.push(text);
      else this.print(text);
    };
  }

  /** Listens for browsers (before any service starts: a busy port costs nothing). */
  async startConsole(web: HostPort): Promise<void> {
    this.hub = new ConsoleHub();
    this.console = await startConsoleServer(this.hub, {
      hostname: web.hostname,
      port: web.port,
      signal: this.#consoleStop.signal,
    });
  }

  /** Starts each service of the plan in order, until the signal aborts. */
  async startAll(): Promise<void> {
    for (const name of this.plan) {
      if (this.options.signal.aborted) return;
      const same = this.started.filter((s) => s.service.name === name).length;
      const label = same > 0 || countOf(this.plan, name) > 1 ? `${name} ${same + 1}` : name;
      await this.startOne(labService(name), label);
    }
  }

  async startOne(service: LabService, label: string): Promise<void> {
    const stop = new AbortController();
    const binder = this.started.find((s) => s.service.name === "binder");
    const monitor = this.hub ? new TimedMonitor(label) : undefined;
    let run: RunningService;
    try {
      run = await service.start({
        signal: stop.signal,
        bind: this.bind,
        port: this.options.defaultPorts ? service.defaultPort : 0,
        log: this.logFor(label),
        binder: binder ? reachable(binder.run.addr) : undefined,
        monitor,
      });
    } catch (err) {
      stop.abort();
      throw new FailError(`cannot start ${label}: ${describeError(err)}`);
    }
    this.started.push({ service, label, run, stop });
    if (monitor) {
      const address = addressText(run.addr);
      this.hub?.add({ label, transport: service.transport, address, monitor });
    }
    run.running.then(() => this.hub?.setUp(label, false), (err) => {
      this.hub?.setUp(label, false);
      if (stop.signal.aborted) return;
      this.failed = true;
      this.printErr(`socklab demo: ${label} stopped: ${describeError(err)}`);
    });
  }

  /** The start-up lines: where the lab runs, one row per service, the console's URL. */
  printTable(): void {
    const wildcard = this.bind === "0.0.0.0" || this.bind === "::";
    this.print(
      `socklab demo --serve: the lab is running on ${this.bind}${
        wildcard ? " (every interface: clients use this machine's address)" : ""
      }; Ctrl-C stops it`,
    );
    const rows = this.started.map(({ service, run }) => {
      const reach = reachable(run.addr);
      return [
        service.name,
        service.transport.toUpperCase(),
        addressText(run.addr),
        `try: ${service.tryIt(addressText({ ...run.addr, ...reach }))}`,
      ];
    });
    for (const line of formatTable(rows)) this.print(line);
    if (this.console) {
      this.print(
        `socklab demo --serve: lab console at ${this.console.url} (Prometheus metrics at ${this.console.url}metrics)`,
      );
    }
    this.releaseLogs();
  }

  releaseLogs(): void {
    const pending = this.#held ?? [];
    this.#held = undefined;
    for (const line of pending) this.print(line);
  }

  /** Stops the services last-first (exec-servers unregister while the binder answers), then the console. */
  async stopAll(): Promise<void> {
    this.#held = undefined;
    for (const s of [...this.started].reverse()) {
      s.stop.abort();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        s.run.running.catch(() => {}),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS))),
      ]);
      clearTimeout(timer);
    }
    this.#consoleStop.abort();
    await this.console?.finished;
  }
}

/**
 * Runs the lab until `signal` aborts. Resolves 0, or 1 when a service failed
 * while serving. Throws FailError naming the service when one cannot start
 * (those already started are stopped first), or the console's address when
 * it cannot listen.
 */
export async function serveLab(options: ServeLabOptions): Promise<number> {
  const lab = new LabRun(options);
  try {
    if (options.web) await lab.startConsole(options.web);
    await lab.startAll();
    if (options.signal.aborted) return 0;
    lab.printTable();
    await aborted(options.signal);
  } finally {
    await lab.stopAll();
  }
  lab.print(`socklab demo --serve: stopped ${lab.started.length} services`);
  return lab.failed ? 1 : 0;
}

function countOf(list: readonly string[], name: string): number {
  return list.filter((n) => n === name).length;
}
