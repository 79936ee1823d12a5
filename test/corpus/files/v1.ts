/**
 * Update corpus: `files`, version 1 — a file-table-like server: inodes are class
 * instances (`File`, `Dir`, registered in `classes`) in one Map, the root directory is
 * shared between that Map and `root`, and open files point at (share) their inode, so
 * two descriptors and a hard link can all reach one `File`. `adds.log` (inode 2) is
 * created by `init`.
 *
 * Protocol (every files version): `fs.create { name }`, `fs.mkdir { name }`,
 * `fs.link { name, to }`, `fs.open { name, mode: r|w|rw }` → fd, `fs.write { fd, text }`
 * (at the descriptor's offset), `fs.close { fd }`, `fs.add { tag }` (appends a line to
 * adds.log), `fs.stat { name }`, `fs.dump {}` (every name with its inode's kind, size,
 * contents and links; every descriptor with its inode and whether it is shared).
 */
import { defineServer, err, ok, t } from '../../../src/sys/index.js';

export const protocol = {
  'fs.create': t.object({ name: t.string }),
  'fs.mkdir': t.object({ name: t.string }),
  'fs.link': t.object({ name: t.string, to: t.string }),
  'fs.open': t.object({ name: t.string, mode: t.oneOf('r', 'w', 'rw') }),
  'fs.write': t.object({ fd: t.int, text: t.string }),
  'fs.close': t.object({ fd: t.int }),
  'fs.add': t.object({ tag: t.string }),
  'fs.stat': t.object({ name: t.string }),
  'fs.dump': t.object({}),
} as const;

export class File {
  constructor(
    public ino: number,
    public data: Uint8Array,
    public size: number,
    public links: number,
  ) {}

  kind(): string {
    return 'file';
  }

  write(off: number, bytes: Uint8Array): void {
    const end = off + bytes.length;
    if (end > this.data.length) {
      const grown = new Uint8Array(Math.max(end, this.data.length * 2));
      grown.set(this.data);
      this.data = grown;
    }
    this.data.set(bytes, off);
    if (end > this.size) this.size = end;
  }

  text(): string {
    return new TextDecoder().decode(this.data.subarray(0, this.size));
  }
}

export class Dir {
  constructor(
    public ino: number,
    public names: Map<string, number>,
  ) {}

  kind(): string {
    return 'dir';
  }
}

interface OpenFile {
  node: File;
  offset: number;
  mode: string;
}

interface FsState {
  nodes: Map<number, Dir | File>;
  root: Dir;
  fds: Map<number, OpenFile>;
  nextIno: number;
  nextFd: number;
}

const enc = new TextEncoder();

export default defineServer<FsState, typeof protocol>({
  protocol,
  init: () => {
    const root = new Dir(1, new Map([['adds.log', 2]]));
    return { nodes: new Map<number, Dir | File>([[1, root], [2, new File(2, new Uint8Array(0), 0, 1)]]), root, fds: new Map(), nextIno: 3, nextFd: 3 };
  },
  classes: { File, Dir },
  handlers: {
    'fs.create': (s, msg) => {
      if (s.root.names.has(msg.name)) return err('EEXIST', msg.name);
      const ino = s.nextIno++;
      s.nodes.set(ino, new File(ino, new Uint8Array(0), 0, 1));
      s.root.names.set(msg.name, ino);
      return ok(ino);
    },
    'fs.mkdir': (s, msg) => {
      if (s.root.names.has(msg.name)) return err('EEXIST', msg.name);
      const ino = s.nextIno++;
      s.nodes.set(ino, new Dir(ino, new Map()));
      s.root.names.set(msg.name, ino);
      return ok(ino);
    },
    'fs.link': (s, msg) => {
      const ino = s.root.names.get(msg.to);
      const node = ino === undefined ? undefined : s.nodes.get(ino);
      if (!node) return err('ENOENT', msg.to);
      if (!(node instanceof File)) return err('EISDIR', msg.to);
      if (s.root.names.has(msg.name)) return err('EEXIST', msg.name);
      s.root.names.set(msg.name, node.ino);
      node.links++;
      return ok(null);
    },
    'fs.open': (s, msg) => {
      const ino = s.root.names.get(msg.name);
      const node = ino === undefined ? undefined : s.nodes.get(ino);
      if (!node) return err('ENOENT', msg.name);
      if (!(node instanceof File)) return err('EISDIR', msg.name);
      const fd = s.nextFd++;
      s.fds.set(fd, { node, offset: 0, mode: msg.mode });
      return ok(fd);
    },
    'fs.write': (s, msg) => {
      const of = s.fds.get(msg.fd);
      if (!of || of.mode === 'r') return err('EBADF', String(msg.fd));
      const bytes = enc.encode(msg.text);
      of.node.write(of.offset, bytes);
      of.offset += bytes.length;
      return ok(bytes.length);
    },
    'fs.close': (s, msg) => (s.fds.delete(msg.fd) ? ok(null) : err('EBADF', String(msg.fd))),
    'fs.add': (s, msg, ctx) => {
      const log = s.nodes.get(2) as File;
      log.write(log.size, enc.encode(`${msg.tag}\n`));
      return ok({ tag: msg.tag, inc: ctx.self.incarnation });
    },
    'fs.stat': (s, msg) => {
      const ino = s.root.names.get(msg.name);
      const node = ino === undefined ? undefined : s.nodes.get(ino);
      if (!node) return err('ENOENT', msg.name);
      return ok(node instanceof File ? { ino, kind: node.kind(), size: String(node.size), links: node.links } : { ino, kind: node.kind(), entries: node.names.size });
    },
    'fs.dump': (s) =>
      ok({
        names: [...s.root.names].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, ino]) => {
          const node = s.nodes.get(ino)!;
          return node instanceof File ? [name, ino, node.kind(), String(node.size), node.text(), node.links] : [name, ino, node.kind(), node.names.size];
        }),
        fds: [...s.fds].sort(([a], [b]) => a - b).map(([fd, of]) => [fd, of.node.ino, of.offset, of.mode, of.node === s.nodes.get(of.node.ino)]),
        rootShared: s.root === s.nodes.get(1),
        next: [s.nextIno, s.nextFd],
      }),
  },
});
