/**
 * nc: a TCP client and server over Molt's network stack.
 *
 *   nc HOST PORT          connect; standard input goes to the peer, what it sends to standard output
 *   nc -l [-k] [-e] [HOST] PORT
 *                         listen (HOST default 127.0.0.1; PORT 0 picks one, printed on stderr),
 *                         serve one connection (-k: keep accepting, one after another);
 *                         -e echoes what each peer sends back to it instead of using stdio
 *
 * Exit status: 0 when the connection ended normally, 1 on an error (refused, reset, bad arguments).
 *
 * Entry points: default `main(argv)`; `parseNcArgs`.
 */
import {
  accept, bind, closeSocket, connect, eprint, listen, read, recv, sendTo, shutdown, socket, SysError, write,
} from 'libc';

export const NC_USAGE = 'usage: nc HOST PORT | nc -l [-k] [-e] [HOST] PORT\n';

export type NcPlan =
  | { mode: 'connect'; host: string; port: number }
  | { mode: 'listen'; host: string; port: number; keep: boolean; echo: boolean }
  | { mode: 'error'; message: string };

export function parseNcArgs(args: readonly string[]): NcPlan {
  let listenMode = false;
  let keep = false;
  let echo = false;
  const rest: string[] = [];
  for (const a of args) {
    if (a === '-l') listenMode = true;
    else if (a === '-k') keep = true;
    else if (a === '-e') echo = true;
    else if (a.startsWith('-') && a !== '-') return { mode: 'error', message: `unknown option ${a}` };
    else rest.push(a);
  }
  const portOf = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) && Number(s) <= 65535 ? Number(s) : null);
  if (listenMode) {
    if (rest.length < 1 || rest.length > 2) return { mode: 'error', message: 'nc -l needs a PORT (and optionally a HOST before it)' };
    const port = portOf(rest[rest.length - 1]);
    if (port === null) return { mode: 'error', message: `bad port ${rest[rest.length - 1]}` };
    return { mode: 'listen', host: rest.length === 2 ? rest[0]! : '127.0.0.1', port, keep, echo };
  }
  if (keep || echo) return { mode: 'error', message: '-k and -e go with -l' };
  if (rest.length !== 2) return { mode: 'error', message: 'nc needs HOST and PORT' };
  const port = portOf(rest[1]);
  if (port === null || port === 0) return { mode: 'error', message: `bad port ${rest[1]}` };
  return { mode: 'connect', host: rest[0]!, port };
}

/** Copy the connection's bytes to `fd` until the peer ends its stream. */
async function pump(sock: number, fd: number): Promise<void> {
  for (;;) {
    const data = await recv(sock);
    if (data.length === 0) return;
    await write(fd, data);
  }
}

/** Standard input to the peer, then half-close so it sees the end. */
async function feed(sock: number): Promise<void> {
  for (;;) {
    const data = await read(0, 65536);
    if (data.length === 0) break;
    await sendTo(sock, data);
  }
  await shutdown(sock).catch(() => undefined);
}

async function echoBack(sock: number): Promise<void> {
  for (;;) {
    const data = await recv(sock);
    if (data.length === 0) break;
    await sendTo(sock, data);
  }
  await shutdown(sock).catch(() => undefined);
}

async function serve(conn: number, echo: boolean): Promise<void> {
  try {
    if (echo) await echoBack(conn);
    else await Promise.all([pump(conn, 1), feed(conn)]);
  } finally {
    await closeSocket(conn).catch(() => undefined);
  }
}

export default async function main(argv: readonly string[]): Promise<number> {
  const plan = parseNcArgs(argv.slice(1));
  if (plan.mode === 'error') {
    await eprint(`nc: ${plan.message}\n${NC_USAGE}`);
    return 1;
  }
  try {
    const sock = await socket();
    if (plan.mode === 'connect') {
      await connect(sock, plan.host, plan.port);
      await serve(sock, false);
      return 0;
    }
    await bind(sock, plan.host, plan.port);
    const port = await listen(sock);
    await eprint(`nc: listening on ${plan.host}:${port}\n`);
    do {
      const { sock: conn } = await accept(sock);
      await serve(conn, plan.echo);
    } while (plan.keep);
    await closeSocket(sock);
    return 0;
  } catch (e) {
    await eprint(`nc: ${e instanceof SysError ? e.message : String(e)}\n`);
    return 1;
  }
}
