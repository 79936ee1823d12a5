/**
 * ls: list directories and files. One name per line; `-l` long format (type and mode,
 * links, owner uid, size in bytes, modification time, name); `-a` also names starting
 * with `.` (and `.`, `..`); `-A` those without `.` and `..`; `-d` a directory itself, not
 * its contents; `-1` one per line (always).
 *
 * Usage: `ls [-lado1] [PATH…]`. Exit status 1 if a path could not be listed.
 *
 * Entry points: default `main(argv)`; `parseLsArgs`, `modeString`, `formatTime`, `formatLong`, `joinPath`.
 */
import { eprint, readdir, stat, write, SysError, type Stat } from 'libc';

export interface LsOptions {
  long: boolean;
  all: boolean;
  almostAll: boolean;
  directory: boolean;
  paths: string[];
}

export function parseLsArgs(args: readonly string[]): LsOptions | { error: string } {
  const o: LsOptions = { long: false, all: false, almostAll: false, directory: false, paths: [] };
  let opts = true;
  for (const a of args) {
    if (opts && a === '--') {
      opts = false;
    } else if (opts && a.startsWith('-') && a.length > 1) {
      for (const f of a.slice(1)) {
        if (f === 'l') o.long = true;
        else if (f === 'a') o.all = true;
        else if (f === 'A') o.almostAll = true;
        else if (f === 'd') o.directory = true;
        else if (f === '1') continue;
        else return { error: `ls: unknown option -${f}\nusage: ls [-lAad1] [PATH…]` };
      }
    } else {
      o.paths.push(a);
    }
  }
  if (o.paths.length === 0) o.paths.push('.');
  return o;
}

const TYPE_CHAR: Record<string, string> = { file: '-', dir: 'd', pipe: 'p', tty: 'c' };

/** `drwxr-xr-x` from a file type and permission bits. */
export function modeString(type: string, mode: number): string {
  let s = TYPE_CHAR[type] ?? '?';
  for (const shift of [6, 3, 0]) {
    const bits = (mode >> shift) & 7;
    s += (bits & 4 ? 'r' : '-') + (bits & 2 ? 'w' : '-') + (bits & 1 ? 'x' : '-');
  }
  return s;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** `YYYY-MM-DD HH:MM` in local time (the sandbox's clock zone); `utc` for UTC. */
export function formatTime(ms: number, utc = false): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return '????-??-?? ??:??';
  return utc
    ? `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`
    : `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

/** Long-format lines, numbers right-aligned in columns; an entry without a stat shows question marks. */
export function formatLong(entries: Array<{ name: string; st: Stat | null }>, opts: { utc?: boolean } = {}): string {
  const rows = entries.map(({ name, st }) =>
    st
      ? [modeString(st.type, st.mode), String(st.nlink), String(st.uid), String(st.size), formatTime(st.mtime, opts.utc), name]
      : ['??????????', '?', '?', '?', '????-??-?? ??:??', name],
  );
  const width = (col: number) => Math.max(0, ...rows.map((r) => r[col]!.length));
  const [wl, wu, ws] = [width(1), width(2), width(3)];
  return rows.map((r) => `${r[0]} ${r[1]!.padStart(wl)} ${r[2]!.padStart(wu)} ${r[3]!.padStart(ws)} ${r[4]} ${r[5]}\n`).join('');
}

export function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

const codeOf = (e: unknown) => (e instanceof SysError ? e.code : 'EIO');

async function out(text: string): Promise<void> {
  for (let at = 0; at < text.length; at += 32768) await write(1, text.slice(at, at + 32768));
}

export default async function main(argv: readonly string[]): Promise<number> {
  const o = parseLsArgs(argv.slice(1));
  if ('error' in o) {
    await eprint(`${o.error}\n`).catch(() => undefined);
    return 2;
  }
  let status = 0;
  const files: Array<{ name: string; st: Stat }> = [];
  const dirs: string[] = [];
  for (const p of o.paths) {
    try {
      const st = await stat(p);
      if (st.type === 'dir' && !o.directory) dirs.push(p);
      else files.push({ name: p, st });
    } catch (e) {
      await eprint(`ls: ${p}: ${codeOf(e)}\n`).catch(() => undefined);
      status = 1;
    }
  }
  const render = (entries: Array<{ name: string; st: Stat | null }>) => (o.long ? formatLong(entries) : entries.map((e) => `${e.name}\n`).join(''));
  const blocks: string[] = [];
  if (files.length > 0) blocks.push(render(files));
  for (const d of dirs) {
    let names: string[];
    try {
      names = (await readdir(d)).map((e) => e.name).filter((n) => n !== '.' && n !== '..');
    } catch (e) {
      await eprint(`ls: ${d}: ${codeOf(e)}\n`).catch(() => undefined);
      status = 1;
      continue;
    }
    names = names.filter((n) => o.all || o.almostAll || !n.startsWith('.')).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (o.all) names = ['.', '..', ...names];
    const entries: Array<{ name: string; st: Stat | null }> = [];
    for (const name of names) entries.push({ name, st: o.long ? await stat(joinPath(d, name)).catch(() => null) : null });
    const header = o.paths.length > 1 ? `${d}:\n` : '';
    blocks.push(header + render(entries));
  }
  try {
    await out(blocks.join('\n'));
  } catch {
    return 1; // standard output closed
  }
  return status;
}
