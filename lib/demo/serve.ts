/**
 * `socklab demo --serve`: starts every service of the lab table on one
 * address, prints one line per service (name, transport, address:port, and a
 * client command to try), then each service's log lines prefixed with its
 * name, until the signal (Ctrl-C) stops them all.
 *
 * ```sh
 * socklab demo --serve                          # loopback, free ports
 * socklab demo --serve --bind 10.0.0.5 --default-ports   # a class points clients here
 * ```
 * @module
 */
import { describeError, FailError } from "../cli/errors.ts";
import { formatTable } from "../loadgen/format.ts";
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
}

/** Longest wait for one service to stop before the next is stopped. */
const STOP_WAIT_MS = 5000;

interface Started {
  service: LabService;
  run: RunningService;
  stop: AbortController;
}

/**
 * Runs the lab until `signal` aborts. Resolves 0, or 1 when a service failed
 * while serving. Throws FailError naming the service when one cannot start
 * (those already started are stopped first).
 */
export async function serveLab(options: ServeLabOptions): Promise<number> {
  const print = options.print ?? console.log;
  const printErr = options.printErr ?? console.error;
  const bind = options.bind ?? "127.0.0.1";
  const started: Started[] = [];
  // Log lines wait until the address table is out, then flow live.
  let held: string[] | undefined = [];
  const logFor = (label: string) => (line: string) => {
    if (options.quiet) return;
    const text = `[${label}] ${line}`;
    if (held) held.push(text);
    else print(text);
  };

  let failed = false;
  try {
    for (const name of options.plan ?? SERVE_PLAN) {
      if (options.signal.aborted) break;
      const service = labService(name);
      const stop = new AbortController();
      const same = started.filter((s) => s.service.name === name).length;
      const label = same > 0 || countOf(options.plan ?? SERVE_PLAN, name) > 1
        ? `${name} ${same + 1}`
        : name;
      const binder = started.find((s) => s.service.name === "binder");
      let run: RunningService;
      try {
        run = await service.start({
          signal: stop.signal,
          bind,
          port: options.defaultPorts ? service.defaultPort : 0,
          log: logFor(label),
          binder: binder ? reachable(binder.run.addr) : undefined,
        });
      } catch (err) {
        stop.abort();
        throw new FailError(`cannot start ${label}: ${describeError(err)}`);
      }
      started.push({ service, run, stop });
      run.running.catch((err) => {
        if (stop.signal.aborted) return;
        failed = true;
        printErr(`socklab demo: ${label} stopped: ${describeError(err)}`);
      });
    }
    if (options.signal.aborted) return 0;

    print(
      `socklab demo --serve: the lab is running on ${bind}${
        bind === "0.0.0.0" || bind === "::"
          ? " (every interface: clients use this machine's address)"
          : ""
      }; Ctrl-C stops it`,
    );
    const rows = started.map(({ service, run }) => {
      const addr = addressText(run.addr);
      const reach = reachable(run.addr);
      return [
        service.name,
        service.transport.toUpperCase(),
        addr,
        `try: ${service.tryIt(addressText({ ...run.addr, ...reach }))}`,
      ];
    });
    for (const line of formatTable(rows)) print(line);
    const pending = held ?? [];
    held = undefined;
    for (const line of pending) print(line);

    await new Promise<void>((resolve) => {
      if (options.signal.aborted) resolve();
      else options.signal.addEventListener("abort", () => resolve(), { once: true });
    });
  } finally {
    held = undefined;
    // Last started first: exec-servers unregister while the binder still answers.
    for (const s of started.reverse()) {
      s.stop.abort();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        s.run.running.catch(() => {}),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS))),
      ]);
      clearTimeout(timer);
    }
  }
  print(`socklab demo --serve: stopped ${started.length} services`);
  return failed ? 1 : 0;
}

function countOf(list: readonly string[], name: string): number {
  return list.filter((n) => n === name).length;
}
