/**
 * The network stack end to end: Molt programs (`/bin/nc`) listening and connecting over
 * net and the kernel's host-TCP device, reached from the host with real TCP on loopback;
 * blocking calls, select, errors; and net live-updated (and rolled back) under an open
 * connection that keeps working.
 */
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NET, TTY_USER, osServices } from '../../src/boot/os.js';
import { bootSystem, hostConnect, freePort, until, type TestSystem } from '../helpers/system.js';

const enc = (s: string) => new TextEncoder().encode(s);



describe('net: TCP sockets for Molt programs over the host-TCP device', () => {
  let sys: TestSystem;
  const call = async <T = unknown>(to: string, msg: Record<string, unknown>) => {
    const r = await sys.kernel.call(to, msg as { type: string }, 30_000);
    if (!r.ok) throw new Error(`${to} ${String(msg.type)}: ${r.code} ${r.message ?? ''}`);
    return r.value as T;
  };
  const raw = (to: string, msg: Record<string, unknown>) => sys.kernel.call(to, msg as { type: string }, 30_000);

  beforeAll(async () => {
    sys = await bootSystem({
      config: (c) => ({
        ...c,
        services: [...c.services.map((s) => (s.label === 'tty' ? { ...s, ...TTY_USER } : s)), ...osServices({ root: 'tmpfs', init: null }), NET],
      }),
    });
  });
  afterAll(() => sys.stop());

  it('a Molt echo server (nc -l -k -e) is reachable from the host; several connections, in turn', async () => {
    const port = await freePort();
    const pid = await call<number>('pm', { type: 'pm.spawn', path: '/bin/nc.ts', argv: ['nc', '-l', '-k', '-e', '127.0.0.1', String(port)] });
    const c1 = await until(async () => hostConnect(port).catch(() => null), 10_000, 'the echo server to listen');
    c1.sock.write('hello, molt\n');
    await until(() => c1.got() === 'hello, molt\n', 10_000, 'the echo');
    const big = 'x'.repeat(300_000);
    c1.sock.write(big);
    await until(() => c1.got().length === 12 + big.length, 10_000, 'a large echo');
    expect(c1.got().slice(12)).toBe(big);
    c1.sock.end();
    await until(() => c1.closed(), 10_000, 'the server to close after our end of stream');
    const c2 = await hostConnect(port);
    c2.sock.write('second');
    await until(() => c2.got() === 'second', 10_000, 'the second connection echo');
    // The sockets show in net's table, owned by the process.
    const rows = await call<Array<{ owner: string; state: string }>>('net', { type: 'net.list' });
    expect(rows.some((r) => r.owner === `p${pid}` && r.state === 'listening')).toBe(true);
    expect(rows.some((r) => r.owner === `p${pid}` && r.state === 'connected')).toBe(true);
    // The process ends: its sockets close (the host sees the connection go).
    await call('pm', { type: 'pm.kill', pid, signal: 'KILL' });
    await call('pm', { type: 'pm.wait', pid });
    await until(() => c2.closed(), 10_000, 'the connection to close with its process');
    await until(async () => (await call<unknown[]>('net', { type: 'net.list' })).length === 0, 10_000, 'net to forget the sockets');
  });

  it('a Molt client (nc HOST PORT) connects to a host server and sends its input', async () => {
    let received = '';
    const srv = createServer((s) => {
      s.on('data', (d) => (received += d.toString()));
      s.end('from the host\n');
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    // stdin: a pipe we fill, stdout: a file we read back.
    const [r, w] = await call<[number, number]>('vfs', { type: 'vfs.pipe' });
    const out = await call<number>('vfs', { type: 'vfs.open', path: '/nc.out', flags: 'w' });
    await call('vfs', { type: 'vfs.write', fd: w, data: enc('to the host\n') });
    await call('vfs', { type: 'vfs.close', fd: w });
    const errFd = await call<number>('vfs', { type: 'vfs.open', path: '/nc.err', flags: 'w' });
    const pid = await call<number>('pm', { type: 'pm.spawn', path: '/bin/nc.ts', argv: ['nc', '127.0.0.1', String(port)], fds: [[0, r], [1, out], [2, errFd]] });
    const done = await call<{ status: number }>('pm', { type: 'pm.wait', pid });
    const ef = await call<number>('vfs', { type: 'vfs.open', path: '/nc.err', flags: 'r' });
    expect(new TextDecoder().decode(await call<Uint8Array>('vfs', { type: 'vfs.read', fd: ef, length: 1000 }))).toBe('');
    expect(done.status).toBe(0);
    expect(received).toBe('to the host\n');
    const fd = await call<number>('vfs', { type: 'vfs.open', path: '/nc.out', flags: 'r' });
    const text = new TextDecoder().decode(await call<Uint8Array>('vfs', { type: 'vfs.read', fd, length: 1000 }));
    expect(text).toBe('from the host\n');
    srv.close();
  });

  it('errors are clear: refused connection, address in use, a socket that is not yours, bad arguments', async () => {
    const port = await freePort();
    const s = await call<number>('net', { type: 'net.socket' });
    const refused = await raw('net', { type: 'net.connect', sock: s, host: '127.0.0.1', port });
    expect(refused).toMatchObject({ ok: false, code: 'ECONNREFUSED' });
    const host = createServer();
    await new Promise<void>((r) => host.listen(0, '127.0.0.1', r));
    const used = (host.address() as AddressInfo).port;
    const l = await call<number>('net', { type: 'net.socket' });
    await call('net', { type: 'net.bind', sock: l, host: '127.0.0.1', port: used });
    expect(await raw('net', { type: 'net.listen', sock: l })).toMatchObject({ ok: false, code: 'EADDRINUSE' });
    host.close();
    expect(await raw('net', { type: 'net.recv', sock: 9999 })).toMatchObject({ ok: false, code: 'EBADF' });
    expect(await raw('net', { type: 'net.bind', sock: l, host: '127.0.0.1', port: 70000 })).toMatchObject({ ok: false, code: 'EINVAL' });
    expect(await raw('net', { type: 'net.send', sock: s, data: 'not bytes' })).toMatchObject({ ok: false, code: 'EINVAL' });
    expect(await raw('net', { type: 'net.recv', sock: s })).toMatchObject({ ok: false, code: 'ENOTCONN' });
    await call('net', { type: 'net.close', sock: s });
    await call('net', { type: 'net.close', sock: l });
  });

  it('select waits for readiness with a timeout; blocking accept and recv answer when the host acts', async () => {
    const l = await call<number>('net', { type: 'net.socket' });
    const port = await call<number>('net', { type: 'net.listen', sock: l });
    expect(port).toBeGreaterThan(0);
    const t0 = Date.now();
    expect(await call('net', { type: 'net.select', socks: [l], timeoutMs: 150 })).toEqual([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    const accepting = call<{ sock: number }>('net', { type: 'net.accept', sock: l });
    const c = await hostConnect(port);
    const { sock } = await accepting;
    const waiting = call<Array<{ sock: number; readable: boolean }>>('net', { type: 'net.select', socks: [sock], timeoutMs: -1 });
    c.sock.write('ping');
    expect(await waiting).toEqual([{ sock, readable: true, writable: true }]);
    expect(new TextDecoder().decode(await call<Uint8Array>('net', { type: 'net.recv', sock }))).toBe('ping');
    const reading = call<Uint8Array>('net', { type: 'net.recv', sock });
    c.sock.end();
    expect((await reading).length).toBe(0); // end of stream
    await call('net', { type: 'net.close', sock });
    await call('net', { type: 'net.close', sock: l });
  });

  it('net is live-updated (and rolled back) under an open connection that keeps working, no byte lost', async () => {
    const port = await freePort();
    await call<number>('pm', { type: 'pm.spawn', path: '/bin/nc.ts', argv: ['nc', '-l', '-k', '-e', '127.0.0.1', String(port)] });
    const c = await until(async () => hostConnect(port).catch(() => null), 10_000, 'the echo server');
    let sent = '';
    let n = 0;
    const timer = setInterval(() => {
      const line = `line ${n++}\n`;
      sent += line;
      c.sock.write(line);
    }, 2);
    try {
      const source = fileURLToPath(new URL('../corpus/net/v2.ts', import.meta.url));
      const up = await call<{ outcome: string; reason: string | null }>('rs', { type: 'rs.update', items: [{ label: 'net', source }] });
      expect(up.outcome, up.reason ?? '').toBe('committed');
      await new Promise((r) => setTimeout(r, 50));
      const back = await call<{ outcome: string; reason: string | null }>('rs', { type: 'rs.rollback', label: 'net' });
      expect(back.outcome, back.reason ?? '').toBe('committed');
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      clearInterval(timer);
    }
    await until(() => c.got().length === sent.length, 10_000, 'every byte echoed');
    expect(c.got()).toBe(sent);
    expect(n).toBeGreaterThan(10);
    c.sock.destroy();
  });
});
