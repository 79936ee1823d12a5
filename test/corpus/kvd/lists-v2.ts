/**
 * Update corpus: `kvd` with a new list representation, for object-level updates
 * (`service update kvd lists-v2.ts --mode objects [--lazy]`). Version 1's `List` is a
 * deque of two arrays (`front` reversed, `back`); this one keeps one array and the index
 * of its first element (`items`, `head`), compacting when half of it is dead — and counts
 * the pushes it served (`pushes`, a field version 1 lacks). Everything else is version 1's
 * code: only the class changes, so the running handlers stay valid.
 *
 * `typeTransfer.List` builds the new representation from either old one (so a process-
 * level update back to version 1 keeps every list too: src/user/kvd/main.ts reads this
 * representation with the same `readOldList`).
 */
import { defineServer } from '../../../src/sys/index.js';
import { kvdProtocol } from '../../../src/user/kvd/protocol.js';
import { checkKvd, kvdHandlers, kvdPrepare, startKvd, stopKvd, withListener, withRecovery } from '../../../src/user/kvd/server.js';
import { Db, freshState, type KvdState } from '../../../src/user/kvd/state.js';
import { dbFromOld, readOldList } from '../../../src/user/kvd/transfer.js';

export class List {
  items: string[] = [];
  head = 0;
  /** Pushes served by this representation (new in this version: 0 after the update). */
  pushes = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  size(): number {
    return this.items.length - this.head;
  }

  at(i: number): string | undefined {
    return i < 0 ? undefined : this.items[this.head + i];
  }

  pushLeft(v: string): void {
    this.pushes++;
    if (this.head > 0) this.items[--this.head] = v;
    else this.items.unshift(v);
  }

  pushRight(v: string): void {
    this.pushes++;
    this.items.push(v);
  }

  popLeft(): string | undefined {
    if (this.head >= this.items.length) return undefined;
    const v = this.items[this.head++];
    if (this.head > 32 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return v;
  }

  popRight(): string | undefined {
    if (this.head >= this.items.length) return undefined;
    return this.items.pop();
  }

  range(start: number, stop: number): string[] {
    return this.items.slice(this.head + start, this.head + stop + 1);
  }

  toArray(): string[] {
    return this.items.slice(this.head);
  }
}

export default defineServer<KvdState, typeof kvdProtocol>({
  protocol: kvdProtocol,
  init: withListener((ctx): KvdState => freshState(ctx.self.args, ctx.self.incarnation, ctx.now())),
  recover: withRecovery((ctx): KvdState => freshState(ctx.self.args, ctx.self.incarnation, ctx.now())),
  start: startKvd,
  stop: stopKvd,
  handlers: kvdHandlers,
  classes: { Db },
  objects: { List },
  prepare: kvdPrepare,
  check: checkKvd,
  transfer: {
    typeTransfer: {
      Db: dbFromOld,
      List: (old) => {
        const l = new List();
        l.items = readOldList(old);
        return l;
      },
    },
  },
});
