/**
 * Shutdown runs every component's stop hook first: what mfs holds in its cache reaches
 * the disk, so a write followed at once by `shutdown` survives the reboot.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { storageBootConfig } from '../../src/boot/image.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { CACHE_DIR } from '../helpers/system.js';

describe('shutdown', () => {
  const homes: string[] = [];
  afterAll(async () => {
    for (const h of homes) await rm(h, { recursive: true, force: true });
  });

  it('makes a write done just before it durable (mfs stop hook commits its cache)', async () => {
    const home = await mkdtemp(join(tmpdir(), 'molt-shutdown-'));
    homes.push(home);
    const boot = async () => {
      // A checkpoint period far longer than the test: only the stop hook can save the data.
      const config = storageBootConfig();
      config.services = config.services.map((s) => (s.label === 'mfs' ? { ...s, args: { ...s.args, checkpointMs: 600_000 } } : s));
      const k = new Kernel({ home, config, cacheDir: CACHE_DIR, control: false, diskBlocks: 4096 });
      await k.boot();
      return k;
    };
    const call = async (k: Kernel, msg: Record<string, unknown>) => {
      const r = await k.call('mfs', msg as { type: string });
      if (!r.ok) throw new Error(`${String(msg.type)}: ${r.code}`);
      return r.value as { ino: number };
    };
    let k = await boot();
    const f = await call(k, { type: 'mfs.create', dir: 1, name: 'late', kind: 'file', mode: 0o644, uid: 0 });
    await call(k, { type: 'mfs.write', ino: f.ino, offset: 0, data: new TextEncoder().encode('written last') });
    await k.shutdown(0);
    k = await boot();
    const found = await call(k, { type: 'mfs.lookup', dir: 1, name: 'late' });
    const data = await k.call('mfs', { type: 'mfs.read', ino: found.ino, offset: 0, length: 100 });
    await k.shutdown(0);
    expect(data.ok && new TextDecoder().decode(data.value as Uint8Array)).toBe('written last');
  });
});
