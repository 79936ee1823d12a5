/**
 * netstat: the network stack's sockets — number, owner (process label or daemon),
 * state, local and remote address, bytes received and sent, bytes queued for the
 * owner, connections waiting to be accepted.
 *
 * Usage: `netstat [--json]`. Entry points: default `main(argv)`; `formatNetstat`.
 */
import { eprint, netstat, print, SysError, type SockAddr, type SockInfo } from 'libc';
import { formatTable } from 'libc/format';

const addr = (a: SockAddr | null) => (a === null ? '-' : a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`);

export function formatNetstat(rows: readonly SockInfo[]): string {
  return formatTable(
    ['SOCK', 'OWNER', 'STATE', 'LOCAL', 'REMOTE', 'RX', 'TX', 'QUEUED', 'BACKLOG'],
    [...rows].sort((a, b) => a.sock - b.sock).map((r) => [
      String(r.sock), r.owner ?? '-', r.state, addr(r.local), addr(r.remote), String(r.rxBytes), String(r.txBytes), String(r.rxQueued), String(r.backlog),
    ]),
  );
}

export default async function main(argv: readonly string[]): Promise<number> {
  const json = argv.includes('--json');
  const unknown = argv.slice(1).find((a) => a !== '--json');
  if (unknown) {
    await eprint(`netstat: unknown option ${unknown}\nusage: netstat [--json]\n`).catch(() => undefined);
    return 2;
  }
  try {
    const rows = await netstat();
    await print(json ? `${JSON.stringify(rows, null, 2)}\n` : formatNetstat(rows));
    return 0;
  } catch (e) {
    await eprint(`netstat: ${e instanceof SysError ? e.message : String(e)}\n`).catch(() => undefined);
    return 1;
  }
}
