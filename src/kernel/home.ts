/**
 * The state directory ("home") of a system: created private (0700) on first boot, and
 * claimed with a lock file holding the kernel's pid, so two systems never share one
 * home — even when started at the same instant.
 *
 * Entry point: `claimHome(home) → { release() }`, `HomeError`.
 */
import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export class HomeError extends Error {
  override name = 'HomeError';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function claimHome(home: string): Promise<{ release(): Promise<void> }> {
  try {
    if (!(await stat(home)).isDirectory()) throw new HomeError(`--home ${home} is not a directory`);
  } catch (e) {
    if (e instanceof HomeError) throw e;
    await mkdir(home, { recursive: true, mode: 0o700 });
  }
  const lock = join(home, 'molt.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(lock, 'wx', 0o600);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return {
        release: async () => {
          const held = await readFile(lock, 'utf8').catch(() => '');
          if (Number(held) === process.pid) await unlink(lock).catch(() => undefined);
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new HomeError(`cannot lock ${home}: ${(e as Error).message}`);
      const pid = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
      if (Number.isSafeInteger(pid) && pid > 0 && alive(pid)) {
        throw new HomeError(`a Molt system is already running with home ${home} (pid ${pid})`);
      }
      await unlink(lock).catch(() => undefined); // left by a system that died
    }
  }
  throw new HomeError(`a Molt system is starting with home ${home}`);
}
