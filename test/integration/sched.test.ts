/**
 * sched: per-process CPU accounting and limits on a booted system — a busy program's CPU
 * time grows and its %CPU is high, a CPU budget ends it with XCPU (152) or, if it
 * ignores XCPU, with KILL (137), nice is recorded and shown, a background process over
 * its share under contention is sent XCPU, the rights of users, the programs (ps, top,
 * nice), and a live update of sched that keeps its records.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHED } from '../../src/boot/os.js';
import type { SchedRow, TopReport } from '../../src/servers/sched/protocol.js';
import { bootOs, fixture, until, type TestSystem } from '../helpers/system.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: unknown) => new TextDecoder().decode(b as Uint8Array);
type R<T = unknown> = { ok: true; value: T } | { ok: false; code: string; message?: string };

describe('sched', () => {
  let sys: TestSystem;
  const call = <T = unknown>(to: string, type: string, fields: Record<string, unknown> = {}) =>
    sys.kernel.call(to, { type, ...fields }, 30_000) as Promise<R<T>>;
  const must = async <T = unknown>(p: Promise<R<T>>): Promise<T> => {
    const r = await p;
    if (!r.ok) throw new Error(`${r.code}: ${r.message ?? ''}`);
    return r.value;
  };
  const put = async (path: string, text: string) => {
    const fd = await must(call<number>('vfs', 'vfs.open', { path, flags: 'w' }));
    await must(call('vfs', 'vfs.write', { fd, data: enc(text) }));
    await must(call('vfs', 'vfs.close', { fd }));
  };
  const get = async (path: string) => {
    const fd = await must(call<number>('vfs', 'vfs.open', { path, flags: 'r' }));
    let out = '';
    for (;;) {
      const c = await must(call<Uint8Array>('vfs', 'vfs.read', { fd, length: 65536 }));
      if (c.length === 0) break;
      out += dec(c);
    }
    await must(call('vfs', 'vfs.close', { fd }));
    return out;
  };
  const spawn = (path: string, argv: string[], extra: Record<string, unknown> = {}) => must(call<number>('pm', 'pm.spawn', { path, argv, ...extra }));
  /** Run a program with its stdout to a file; → its exit status and output. */
  const run = async (path: string, argv: string[], extra: Record<string, unknown> = {}) => {
    const file = `/out-${Math.random().toString(36).slice(2)}`;
    const out = await must(call<number>('vfs', 'vfs.open', { path: file, flags: 'w' }));
    const pid = await spawn(path, argv, { fds: [[0, 0], [1, out], [2, out]], ...extra });
    await must(call('vfs', 'vfs.close', { fd: out }));
    const { status } = await must(call<{ status: number }>('pm', 'pm.wait', { pid }));
    return { pid, status, out: await get(file) };
  };
  const row = async (pid: number) => (await must(call<SchedRow[]>('sched', 'sched.ps'))).find((r) => r.pid === pid);
  const end = async (pid: number) => {
    await call('pm', 'pm.kill', { pid, signal: 'KILL' });
    await call('pm', 'pm.wait', { pid });
  };

  beforeAll(async () => {
    // Fast samples for a short test; a capacity of half a core, so two busy programs contend on any machine.
    sys = await bootOs({ root: 'tmpfs', extra: [{ ...SCHED, args: { periodMs: 200, graceMs: 600, capacityPct: 50, shedSamples: 2 } }] });
    await must(call('vfs', 'vfs.mkdir', { path: '/progs' }));
    for (const p of ['spin-busy.ts', 'spin-call.ts', 'sleeper.ts']) await put(`/progs/${p}`, await readFile(fixture(`programs/${p}`), 'utf8'));
  });
  afterAll(() => sys?.stop());

  it('a busy program: its CPU time grows, its %CPU is high; top shows it and the system components; its record goes when it ends', async () => {
    const pid = await spawn('/progs/spin-busy.ts', ['spin-busy']);
    const first = await until(async () => {
      const r = await row(pid);
      return r && r.cpuMs > 200 && r.pcpu > 50 ? r : null;
    }, 10_000, 'the spinner to be accounted');
    const later = await until(async () => {
      const r = await row(pid);
      return r && r.cpuMs >= first.cpuMs + 300 ? r : null;
    }, 10_000, 'its CPU time to grow');
    expect(later).toMatchObject({ pid, nice: 0, limitMs: null });
    const top = await must(call<TopReport>('sched', 'sched.top'));
    expect(top.rows[0]).toMatchObject({ pid, cmd: 'spin-busy', uid: 0, enforcement: 'run' });
    expect(top.servers.map((s) => s.label)).toEqual(expect.arrayContaining(['pm', 'vfs', 'sched']));
    expect(top.totals.procsPcpu).toBeGreaterThan(50);
    expect(top.totals.samples).toBeGreaterThan(2);
    await end(pid);
    await until(async () => (await row(pid)) === undefined, 5_000, 'its record to be dropped');
  });

  it('a CPU budget: XCPU ends the program (152); one that ignores XCPU is ended by KILL after the grace period (137)', async () => {
    const a = await spawn('/progs/spin-busy.ts', ['spin-busy']);
    expect(await must(call('sched', 'sched.limit', { pid: a, cpuMs: 300 }))).toMatchObject({ pid: a, limitMs: 300 });
    expect(await must(call('pm', 'pm.wait', { pid: a }))).toEqual({ pid: a, status: 128 + 24 });

    const b = await spawn('/progs/spin-busy.ts', ['spin-busy', 'trap']);
    await must(call('sched', 'sched.limit', { pid: b, cpuMs: 200 }));
    const t0 = Date.now();
    expect(await must(call('pm', 'pm.wait', { pid: b }))).toEqual({ pid: b, status: 128 + 9 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(500); // XCPU first, KILL a grace period later

    const c = await spawn('/progs/spin-busy.ts', ['spin-busy', 'exit']); // handles XCPU: saves its work, exits 7
    await must(call('sched', 'sched.limit', { pid: c, cpuMs: 200 }));
    expect(await must(call('pm', 'pm.wait', { pid: c }))).toEqual({ pid: c, status: 7 });
    const totals = (await must(call<TopReport>('sched', 'sched.top'))).totals;
    expect(totals.xcpuSent).toBeGreaterThanOrEqual(3);
    expect(totals.killsSent).toBeGreaterThanOrEqual(1);
  });

  it('nice: recorded and shown; bad values and unknown processes are refused', async () => {
    const pid = await spawn('/progs/sleeper.ts', ['sleeper']);
    expect(await must(call('sched', 'sched.nice', { pid, nice: 5 }))).toMatchObject({ pid, nice: 5 });
    expect(await row(pid)).toMatchObject({ nice: 5 });
    // Real on the host: the process's worker thread now runs at nice 5 (Linux: per-thread priority, in /proc).
    if (existsSync('/proc/self/task')) {
      const niceOf = (tid: string) => Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[16]);
      await until(() => readdirSync('/proc/self/task').some((tid) => niceOf(tid) === 5), 5_000, 'a thread at nice 5');
    }
    expect(await call('sched', 'sched.nice', { pid, nice: 20 })).toMatchObject({ ok: false, code: 'EINVAL' });
    expect(await call('sched', 'sched.nice', { pid, nice: 'x' })).toMatchObject({ ok: false, code: 'EINVAL' });
    expect(await call('sched', 'sched.nice', { pid: 99_999, nice: 1 })).toMatchObject({ ok: false, code: 'ESRCH' });
    expect(await call('sched', 'sched.limit', { pid, cpuMs: 0 })).toMatchObject({ ok: false, code: 'EINVAL' });
    expect(await call('sched', 'sched.bogus', {})).toMatchObject({ ok: false, code: 'ENOSYS' });
    // Still nice 5 after more samples.
    await new Promise((r) => setTimeout(r, 500));
    expect(await row(pid)).toMatchObject({ nice: 5 });
    await end(pid);
  });

  it('contention: a background process (nice ≥ 10) over its share is sent XCPU; a nice-0 one is not', async () => {
    const fg = await spawn('/progs/spin-busy.ts', ['spin-busy']);
    const bg = await spawn('/progs/spin-busy.ts', ['spin-busy']);
    await must(call('sched', 'sched.nice', { pid: bg, nice: 15 }));
    expect(await must(call('pm', 'pm.wait', { pid: bg }))).toEqual({ pid: bg, status: 128 + 24 });
    expect((await must(call<Array<{ pid: number; state: string }>>('pm', 'pm.ps'))).find((p) => p.pid === fg)).toMatchObject({ state: 'running' });
    expect((await must(call<TopReport>('sched', 'sched.top'))).totals.shed).toBeGreaterThanOrEqual(1);
    await end(fg);
  });

  it('rights: a user may change only its own processes, never lower nice below 0, never raise or remove a budget', async () => {
    const rootProc = await spawn('/progs/sleeper.ts', ['sleeper']);
    const userProc = await spawn('/progs/sleeper.ts', ['sleeper'], { uid: 1000 });
    const file = '/rights.out';
    const out = await must(call<number>('vfs', 'vfs.open', { path: file, flags: 'w' }));
    const ops = [
      `nice:${rootProc}:5`, `limit:${rootProc}:1000`, // another user's: EPERM
      'nice:self:5', 'nice:self:-1', 'nice:self:2', // own: ≥ 0 only
      'limit:self:100000', 'limit:self:200000', 'limit:self:50000', 'limit:self', // set, raise (no), lower, remove (no)
      `nice:${userProc}:3`, // same user's process
      'nice:99999:1', // none
      'hold',
    ];
    const caller = await spawn('/progs/spin-call.ts', ['spin-call', ...ops], { uid: 1000, fds: [[0, 0], [1, out], [2, out]] });
    await must(call('vfs', 'vfs.close', { fd: out }));
    const lines = await until(async () => {
      const l = (await get(file)).split('\n').filter(Boolean);
      return l.length >= 10 ? l : null;
    }, 10_000, 'the calls to be made');
    expect(lines).toEqual(['EPERM', 'EPERM', 'ok', 'EPERM', 'ok', 'ok', 'EPERM', 'ok', 'EPERM', 'ok', 'ESRCH']);
    expect(await row(caller)).toMatchObject({ nice: 2, limitMs: 50_000 });
    expect(await row(userProc)).toMatchObject({ nice: 3 });
    expect(await row(rootProc)).toMatchObject({ nice: 0, limitMs: null });
    // Root may do what the user may not.
    expect(await must(call('sched', 'sched.nice', { pid: caller, nice: -5 }))).toMatchObject({ nice: -5 });
    expect(await must(call('sched', 'sched.limit', { pid: caller }))).toMatchObject({ limitMs: null });
    for (const p of [rootProc, userProc, caller]) await end(p);
  });

  it('programs: ps shows NI and TIME, top prints the table once off a terminal, nice runs a command with a niceness', async () => {
    const spinner = await spawn('/progs/spin-busy.ts', ['spin-busy']);
    await must(call('sched', 'sched.nice', { pid: spinner, nice: 4 }));
    await until(async () => ((await row(spinner))?.cpuMs ?? 0) > 100, 10_000, 'CPU time');
    const ps = await run('/bin/ps.ts', ['ps']);
    expect(ps.status).toBe(0);
    expect(ps.out.split('\n')[0]).toMatch(/^PID\s+PPID\s+UID\s+STAT\s+NI\s+TIME\s+CMD$/);
    expect(ps.out).toMatch(new RegExp(`^${spinner}\\s+0\\s+0\\s+R\\s+4\\s+0:0\\d\\.\\d\\d\\s+spin-busy$`, 'm'));
    const top = await run('/bin/top.ts', ['top', '-d', '0.1']);
    expect(top.status).toBe(0);
    expect(top.out).toMatch(/^top - \d+ processes/);
    expect(top.out).toMatch(new RegExp(`^${spinner}\\s+0\\s+4\\s+\\d+\\.\\d\\s+0:0`, 'm'));
    expect(top.out).toMatch(/^COMPONENT\s+%CPU\s+TIME\s+INC$/m);
    expect(top.out.match(/^top - /gm)).toHaveLength(1);
    const top2 = await run('/bin/top.ts', ['top', '-n', '2', '-d', '0.1', '-s']);
    expect(top2.out.match(/^top - /gm)).toHaveLength(2);
    expect(top2.out).not.toMatch(/COMPONENT/);
    expect((await run('/bin/top.ts', ['top', '-n', 'x'])).status).toBe(2);
    await end(spinner);

    // nice -n 7 sleep 2: the sleep runs at nice 7 while nice waits for it.
    const niceRun = run('/bin/nice.ts', ['nice', '-n', '7', 'sleep', '2']);
    const child = await until(async () => {
      const procs = await must(call<Array<{ pid: number; ppid: number; argv: string[] }>>('pm', 'pm.ps'));
      const sleepProc = procs.find((p) => p.argv[0] === 'sleep' && procs.some((q) => q.pid === p.ppid && q.argv[0] === 'nice'));
      const r = sleepProc ? await row(sleepProc.pid) : undefined;
      return r?.nice === 7 ? r : null;
    }, 10_000, 'the command to run at nice 7');
    expect(child.nice).toBe(7);
    expect(await niceRun).toMatchObject({ status: 0 });
    expect(await run('/bin/nice.ts', ['nice', 'no-such-command'])).toMatchObject({ status: 127 });
    expect(await run('/bin/nice.ts', ['nice'])).toMatchObject({ status: 0, out: '0\n' });
  });

  it('a live update to version 2 keeps every record (CPU time, nice, budget) and sampling goes on', async () => {
    const pid = await spawn('/progs/spin-busy.ts', ['spin-busy']);
    await must(call('sched', 'sched.nice', { pid, nice: 3 }));
    await must(call('sched', 'sched.limit', { pid, cpuMs: 600_000 }));
    const before = await until(async () => {
      const r = await row(pid);
      return r && r.cpuMs > 200 ? r : null;
    }, 10_000, 'CPU time');
    const samplesBefore = (await must(call<TopReport>('sched', 'sched.top'))).totals.samples;
    const up = await must(call<{ outcome: string; reason: string | null }>('rs', 'rs.update', {
      items: [{ label: 'sched', source: fileURLToPath(new URL('../corpus/sched/v2.ts', import.meta.url)) }],
    }));
    expect(up).toMatchObject({ outcome: 'committed' });
    const after = await row(pid);
    expect(after).toMatchObject({ pid, nice: 3, limitMs: 600_000 });
    expect(after!.cpuMs).toBeGreaterThanOrEqual(before.cpuMs);
    // Sampling goes on in version 2: the sample count and the spinner's CPU time grow.
    await until(async () => (await must(call<TopReport>('sched', 'sched.top'))).totals.samples > samplesBefore + 2, 10_000, 'more samples');
    await until(async () => ((await row(pid))?.cpuMs ?? 0) > after!.cpuMs + 200, 10_000, 'CPU time to grow after the update');
    // A budget still works after the update.
    await must(call('sched', 'sched.limit', { pid, cpuMs: 1 }));
    expect(await must(call('pm', 'pm.wait', { pid }))).toEqual({ pid, status: 128 + 24 });
  });

  it('a restart of sched: it samples again, once per period (the old alarm chain is dropped), with the nice and budget clients set (their server state regions)', async () => {
    const pid = await spawn('/progs/sleeper.ts', ['sleeper']);
    await must(call('sched', 'sched.nice', { pid, nice: 2 }));
    await must(call('sched', 'sched.limit', { pid, cpuMs: 60_000 }));
    await must(call('rs', 'rs.restart', { label: 'sched' }));
    await until(async () => (await row(pid))?.nice === 2, 5_000, 'the process to be sampled again, its nice back');
    expect(await row(pid)).toMatchObject({ nice: 2, limitMs: 60_000 });
    // A crash (injected) keeps them too.
    await must(call('rs', 'rs.fi', { label: 'sched', kind: 'throw', at: 'sched.ps' }));
    await call('sched', 'sched.ps');
    await until(async () => (await row(pid))?.nice === 2, 5_000, 'sched to come back from the crash with the nice');
    const a = (await must(call<TopReport>('sched', 'sched.top'))).totals.samples;
    await new Promise((r) => setTimeout(r, 1_000));
    const b = (await must(call<TopReport>('sched', 'sched.top'))).totals.samples;
    expect(b - a).toBeGreaterThanOrEqual(2);
    expect(b - a).toBeLessThanOrEqual(7); // 200 ms period: about 5, not twice that
    await end(pid);
  });
});
