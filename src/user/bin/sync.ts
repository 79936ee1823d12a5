/** sync: make every file system durable (flush what is cached to the disk). Entry point: default `main`. */
import { eprint, sync, SysError } from 'libc';

export default async function main(): Promise<number> {
  try {
    await sync();
    return 0;
  } catch (e) {
    await eprint(`sync: ${e instanceof SysError ? e.code : 'EIO'}\n`).catch(() => undefined);
    return 1;
  }
}
