/**
 * `molt dashboard`: a local web page of a running system, live. An HTTP server on
 * 127.0.0.1 only serves one self-contained page (src/cli/dashboard.html: inline CSS and
 * JS, nothing from the network) and a server-sent-events stream (`/events`) that pushes:
 *
 *   snapshot  every poll (default 500 ms): the `molt top` view (see top.ts) and, per
 *             component, its recent messages/s (the page draws them as sparklines);
 *   timeline  whenever a system event arrives: updates (phases and timings, outcome),
 *             faults, incarnations of the services, oldest first;
 *   status    whether the system answers.
 *
 * System events come from the control socket's `trace` verb limited to the system events
 * (the kernel's always-on record: no per-message tracing is switched on), so an update's
 * phases show up as they happen, not only at the next poll; the snapshot's recent events
 * seed the timeline when the dashboard starts.
 *
 * Entry point: `runDashboard(options)` (resolves with the exit status once stopped).
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { SYSTEM_EVENT_NAMES, type SystemEvent } from '../kernel/abi.js';
import { onLines, type ControlResponse } from '../kernel/control.js';
import { NotRunning } from './client.js';
import { buildView, sample, timeline, type Sample, type TimelineItem, type TopView } from './top.js';

export interface DashboardOptions {
  home: string;
  /** 0: any free port. */
  port: number;
  intervalMs: number;
  open: boolean;
}

/** What the page receives as `snapshot`. */
export interface DashboardSnapshot {
  home: string;
  view: TopView;
  /** Label → its last messages/s figures, oldest first. */
  rates: Record<string, number[]>;
}

/** How many rate samples a sparkline shows, and how many system events the timeline keeps. */
const RATE_POINTS = 60;
const EVENTS_KEPT = 400;
const KEEPALIVE_MS = 15_000;

/** Stream the system events of `home` until `signal` aborts or the system goes; `onStart` once live. */
function systemEventStream(home: string, onEvent: (e: SystemEvent) => void, signal: AbortSignal, onStart: () => void): Promise<void> {
  return new Promise((resolveStream, reject) => {
    const sock = connect(join(home, 'molt.sock'));
    sock.once('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? new NotRunning(home) : e);
    });
    sock.once('connect', () => {
      onLines(sock, (l) => {
        const r = JSON.parse(l) as ControlResponse;
        if ('event' in r) onEvent(r.event as SystemEvent);
        else onStart();
      });
      sock.once('close', () => resolveStream());
      signal.addEventListener('abort', () => sock.destroy());
      sock.write(JSON.stringify({ id: 1, verb: 'trace', events: SYSTEM_EVENT_NAMES }) + '\n');
    });
  });
}

/** A key that identifies one event (the same event from the snapshot and from the stream). */
function eventKey(e: SystemEvent): string {
  switch (e.ev) {
    case 'update.phase':
      return `${e.t}|${e.ev}|${e.update}|${e.phase}|${e.status}|${e.detail ?? ''}`;
    case 'endpoint.failed':
      return `${e.t}|${e.ev}|${e.label}`;
    default:
      return `${e.t}|${e.ev}|${e.incarnation}`;
  }
}

export async function runDashboard(opts: DashboardOptions): Promise<number> {
  const home = resolve(opts.home);
  const page = await readFile(new URL('./dashboard.html', import.meta.url), 'utf8');

  // ── state: the latest view, rate histories, the system events seen ──
  let prev: Sample;
  try {
    prev = await sample(home); // also: is a system running here at all?
  } catch (e) {
    process.stderr.write(`molt: ${e instanceof NotRunning ? e.message : (e as Error).message}\n`);
    return 1;
  }
  const rates = new Map<string, number[]>();
  let services = new Set((prev.services ?? []).map((s) => s.label));
  const restarts = new Map<string, number>((prev.services ?? []).map((s) => [s.label, s.restarts]));
  let latest: DashboardSnapshot = { home, view: buildView(prev, null, restarts), rates: {} };
  const events: SystemEvent[] = [];
  const seen = new Set<string>();
  const addEvent = (e: SystemEvent): boolean => {
    const key = eventKey(e);
    if (seen.has(key)) return false;
    seen.add(key);
    events.push(e);
    events.sort((a, b) => a.t - b.t);
    while (events.length > EVENTS_KEPT) seen.delete(eventKey(events.shift()!));
    return true;
  };
  for (const e of prev.snap.events) addEvent(e);
  let connected = true;
  let statusText = '';

  // ── the page's event streams ──
  const clients = new Set<ServerResponse>();
  const sse = (res: ServerResponse, event: string, data: unknown) => {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const broadcast = (event: string, data: unknown) => {
    for (const res of clients) sse(res, event, data);
  };
  const currentTimeline = (): TimelineItem[] => timeline(events, services.size > 0 ? services : undefined);
  const currentStatus = () => ({ connected, home, text: statusText });

  // ── polling and the live event stream ──
  const ac = new AbortController();
  let stopped = false;
  let streaming = false;
  const startStream = () => {
    if (streaming || stopped) return;
    streaming = true;
    systemEventStream(home, (e) => {
      if (addEvent(e)) broadcast('timeline', currentTimeline());
    }, ac.signal, () => undefined)
      .catch(() => undefined)
      .finally(() => {
        streaming = false;
      });
  };
  startStream();
  let pollTimer: NodeJS.Timeout | null = null;
  const poll = async () => {
    try {
      const cur = await sample(home);
      if (cur.services) {
        services = new Set(cur.services.map((s) => s.label));
        for (const s of cur.services) restarts.set(s.label, s.restarts);
      }
      const view = buildView(cur, prev, restarts);
      prev = cur;
      for (const row of view.components) {
        const h = rates.get(row.label) ?? [];
        h.push(row.msgsPerSec ?? 0);
        if (h.length > RATE_POINTS) h.shift();
        rates.set(row.label, h);
      }
      latest = { home, view, rates: Object.fromEntries(view.components.map((r) => [r.label, rates.get(r.label) ?? []])) };
      let added = false;
      for (const e of cur.snap.events) added = addEvent(e) || added; // anything the stream missed (e.g. while reconnecting)
      if (!connected) {
        connected = true;
        statusText = '';
        broadcast('status', currentStatus());
      }
      broadcast('snapshot', latest);
      if (added) broadcast('timeline', currentTimeline());
      startStream();
    } catch (e) {
      if (connected || statusText !== (e as Error).message) {
        connected = false;
        statusText = e instanceof NotRunning ? 'the system is not running' : (e as Error).message;
        broadcast('status', currentStatus());
      }
    } finally {
      if (!stopped) pollTimer = setTimeout(() => void poll(), opts.intervalMs);
    }
  };

  // ── the HTTP server (127.0.0.1 only) ──
  let port = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // Only pages served from this very address may talk to it (no DNS rebinding from elsewhere).
    const host = req.headers.host ?? '';
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('forbidden\n');
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET' }).end('method not allowed\n');
      return;
    }
    if (path === '/') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        // Everything is inline; nothing may be loaded from anywhere else.
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; img-src data:",
      }).end(page);
      return;
    }
    if (path === '/snapshot.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ ...latest, timeline: currentTimeline(), status: currentStatus() }));
      return;
    }
    if (path === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write('retry: 1000\n\n');
      clients.add(res);
      req.on('close', () => clients.delete(res));
      sse(res, 'status', currentStatus());
      sse(res, 'snapshot', latest);
      sse(res, 'timeline', currentTimeline());
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  const keepalive = setInterval(() => {
    for (const res of clients) res.write(': keep-alive\n\n');
  }, KEEPALIVE_MS);
  try {
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(opts.port, '127.0.0.1', () => resolveListen());
    });
  } catch (e) {
    clearInterval(keepalive);
    ac.abort();
    process.stderr.write(`molt: cannot listen on 127.0.0.1:${opts.port}: ${(e as Error).message}\n`);
    return 1;
  }
  const addr = server.address();
  port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const url = `http://127.0.0.1:${port}/`;
  process.stdout.write(`molt dashboard: ${url} (system ${home}; Ctrl-C stops it)\n`);
  if (opts.open) openBrowser(url);
  pollTimer = setTimeout(() => void poll(), opts.intervalMs);

  // ── until Ctrl-C / SIGTERM ──
  await new Promise<void>((resolveStop) => {
    process.once('SIGINT', () => resolveStop());
    process.once('SIGTERM', () => resolveStop());
  });
  stopped = true;
  if (pollTimer) clearTimeout(pollTimer);
  clearInterval(keepalive);
  ac.abort();
  for (const res of clients) res.end();
  clients.clear();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  return 0;
}

/** Best effort: the desktop's browser (xdg-open on Linux, open on macOS). */
function openBrowser(url: string): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(cmd, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => process.stderr.write(`molt: could not run ${cmd}; open ${url} yourself\n`));
    child.unref();
  } catch {
    process.stderr.write(`molt: open ${url} yourself\n`);
  }
}
