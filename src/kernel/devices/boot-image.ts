/**
 * The boot-image device: the programs that ship with Molt (`src/user/bin/*.ts`), read
 * only, as the kernel owns them. bootfs serves them at /bin.
 *
 * Entry points: `BootImageDevice.list()`, `read(name)`.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface ImageFile {
  name: string;
  size: number;
  mtime: number;
}

export class BootImageDevice {
  constructor(private readonly dir: string) {}

  async list(): Promise<ImageFile[]> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => /^[\w.-]+$/.test(n)).sort();
    } catch {
      return [];
    }
    const out: ImageFile[] = [];
    for (const name of names) {
      const st = await stat(join(this.dir, name));
      if (st.isFile()) out.push({ name, size: st.size, mtime: st.mtimeMs });
    }
    return out;
  }

  async read(name: string): Promise<Uint8Array> {
    if (!/^[\w.-]+$/.test(name)) throw new Error(`no such boot-image file ${name}`);
    return new Uint8Array(await readFile(join(this.dir, name)));
  }
}
