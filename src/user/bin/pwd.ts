/** pwd: print the working directory. Entry point: default `main`. */
import { eprint, getcwd, print, SysError } from 'libc';

export default async function main(): Promise<number> {
  try {
    await print(`${await getcwd()}\n`);
    return 0;
  } catch (e) {
    await eprint(`pwd: ${e instanceof SysError ? e.code : 'EIO'}\n`).catch(() => undefined);
    return 1;
  }
}
