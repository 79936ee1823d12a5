import { defineServer } from '../../../src/sys/index.js';
export class Inode { constructor(public ino: number, public size: bigint, public nlink: number, public mode: number) {} grow(n: bigint) { this.size += n; } }
export interface File { inode: Inode; offset: number; flags: string; }
export interface State {
  files: Map<number, File>;
  inodes: Inode[];
  count: string;
  big: number;
  label: string;
  added: { hits: number };
  when: Date;
  bytes: Uint8Array;
  pair: [number, string, boolean?];
  tags: Set<string>;
  self?: State;
}
export default defineServer<State, {}>({
  protocol: {},
  init: () => ({ files: new Map(), inodes: [], count: '', big: 0, label: '', added: { hits: 42 }, when: new Date(0), bytes: new Uint8Array(0), pair: [0, ''], tags: new Set() }),
  handlers: {},
});
