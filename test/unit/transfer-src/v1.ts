import { defineServer, t } from '../../../src/sys/index.js';
export class Inode { constructor(public ino: number, public size: number, public links: number) {} grow(n: number) { this.size += n; } }
export interface File { inode: Inode; offset: number; flags: string; }
export interface State {
  files: Map<number, File>;
  inodes: Inode[];
  count: number;
  big: bigint;
  label: string;
  removedLater: string[];
  when: Date;
  bytes: Uint8Array;
  pair: [number, string];
  tags: Set<string>;
  self?: State;
}
export default defineServer<State, {}>({
  protocol: {},
  init: () => ({ files: new Map(), inodes: [], count: 0, big: 0n, label: '', removedLater: [], when: new Date(0), bytes: new Uint8Array(0), pair: [0, ''], tags: new Set() }),
  handlers: {},
});
