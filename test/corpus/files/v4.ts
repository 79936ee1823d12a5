/**
 * Update corpus: `files`, version 4 — v2 *without* its pairing callback, and with
 * `Dir` declared before `Regular` (so the type checker lists the inode Map's union as
 * `Dir | Regular`): `File` is renamed `Regular` but nothing says so. An old `File`
 * instance has no class of its name in this version and no pairing, so an update from
 * v1 must refuse (roll back) rather than re-create it as whichever class of the union
 * happens to come first. Same protocol as v1.
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

export class Dir {
  constructor(
    public ino: number,
    public names: Map<string, number>,
  ) {}

  kind(): string {
    return 'directory';
  }
}

export class Regular {
  constructor(
    public ino: number,
    public data: Uint8Array,
    public size: bigint,
    public links: number,
  ) {}

  kind(): string {
    return 'regular';
  }

  write(off: number, bytes: Uint8Array): void {
    const end = off + bytes.length;
    if (end > this.data.length) {
      const grown = new Uint8Array(Math.max(end, this.data.length * 2));
      grown.set(this.data);
      this.data = grown;
    }
    this.data.set(bytes, off);
    if (BigInt(end) > this.size) this.size = BigInt(end);
  }

  text(): string {
    return new TextDecoder().decode(this.data.subarray(0, Number(this.size)));
  }
}

interface OpenFile {
  node: Regular;
  offset: number;
  mode: string;
}

interface FsState {
  nodes: Map<number, Dir | Regular>;
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
    return { nodes: new Map<number, Dir | Regular>([[1, root], [2, new Regular(2, new Uint8Array(0), 0n, 1)]]), root, fds: new Map(), nextIno: 3, nextFd: 3 };
  },
  classes: { Regular, Dir },
  handlers: {
    'fs.create': (s, msg) => {
      if (s.root.names.has(msg.name)) return err('EEXIST', msg.name);
      const ino = s.nextIno++;
      s.nodes.set(ino, new Regular(ino, new Uint8Array(0), 0n, 1));
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
      if (!(node instanceof Regular)) return err('EISDIR', msg.to);
      if (s.root.names.has(msg.name)) return err('EEXIST', msg.name);
      s.root.names.set(msg.name, node.ino);
      node.links++;
      return ok(null);
    },
    'fs.open': (s, msg) => {
      const ino = s.root.names.get(msg.name);
      const node = ino === undefined ? undefined : s.nodes.get(ino);
      if (!node) return err('ENOENT', msg.name);
      if (!(node instanceof Regular)) return err('EISDIR', msg.name);
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
      const log = s.nodes.get(2) as Regular;
      log.write(Number(log.size), enc.encode(`${msg.tag}\n`));
      return ok({ tag: msg.tag, inc: ctx.self.incarnation });
    },
    'fs.stat': (s, msg) => {
      const ino = s.root.names.get(msg.name);
      const node = ino === undefined ? undefined : s.nodes.get(ino);
      if (!node) return err('ENOENT', msg.name);
      return ok(node instanceof Regular ? { ino, kind: node.kind(), size: String(node.size), links: node.links } : { ino, kind: node.kind(), entries: node.names.size });
    },
    'fs.dump': (s) =>
      ok({
        names: [...s.root.names].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, ino]) => {
          const node = s.nodes.get(ino)!;
          return node instanceof Regular ? [name, ino, node.kind(), String(node.size), node.text(), node.links] : [name, ino, node.kind(), node.names.size];
        }),
        fds: [...s.fds].sort(([a], [b]) => a - b).map(([fd, of]) => [fd, of.node.ino, of.offset, of.mode, of.node === s.nodes.get(of.node.ino)]),
        rootShared: s.root === s.nodes.get(1),
        next: [s.nextIno, s.nextFd],
      }),
  },
});
