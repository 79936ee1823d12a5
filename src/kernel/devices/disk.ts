/**
 * The disk device: a disk-image file on the host that the kernel owns. Components reach
 * it only through kernel calls (the `disk` driver holds the privilege). Whole blocks;
 * `flush` makes every completed write durable (fsync).
 *
 * Entry points: `DiskDevice.open(path, { createBlocks })`, `read`, `write`, `flush`,
 * `info`, `close`; `BLOCK_SIZE`.
 */
import { open, type FileHandle } from 'node:fs/promises';

export const BLOCK_SIZE = 4096;
/** Default size of a new image: 256 MiB (sparse on the host). */
export const DEFAULT_DISK_BLOCKS = 65_536;

export interface DiskInfo {
  path: string;
  blockSize: number;
  blocks: number;
  /** True when this boot created the image (it needs formatting). */
  created: boolean;
}

export class DiskError extends Error {
  override name = 'DiskError';
}

export class DiskDevice {
  private constructor(
    private readonly fh: FileHandle,
    readonly info: DiskInfo,
  ) {}

  static async open(path: string, opts: { createBlocks?: number } = {}): Promise<DiskDevice> {
    let created = false;
    let fh: FileHandle;
    try {
      fh = await open(path, 'r+');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new DiskError(`cannot open disk image ${path}: ${(e as Error).message}`);
      fh = await open(path, 'w+', 0o600);
      await fh.truncate((opts.createBlocks ?? DEFAULT_DISK_BLOCKS) * BLOCK_SIZE);
      created = true;
    }
    const size = (await fh.stat()).size;
    if (size === 0 || size % BLOCK_SIZE !== 0) {
      await fh.close();
      throw new DiskError(`${path} is not a disk image (size ${size} is not a positive multiple of ${BLOCK_SIZE})`);
    }
    return new DiskDevice(fh, { path, blockSize: BLOCK_SIZE, blocks: size / BLOCK_SIZE, created });
  }

  private check(block: number, count: number): void {
    if (!Number.isSafeInteger(block) || !Number.isSafeInteger(count) || block < 0 || count < 1 || block + count > this.info.blocks) {
      throw new DiskError(`blocks ${block}..${block + count - 1} are outside the disk (0..${this.info.blocks - 1})`);
    }
  }

  async read(block: number, count: number): Promise<Uint8Array> {
    this.check(block, count);
    const buf = new Uint8Array(count * BLOCK_SIZE);
    const { bytesRead } = await this.fh.read(buf, 0, buf.length, block * BLOCK_SIZE);
    if (bytesRead !== buf.length) throw new DiskError(`short read at block ${block}`);
    return buf;
  }

  async write(block: number, data: Uint8Array): Promise<void> {
    if (!(data instanceof Uint8Array) || data.length === 0 || data.length % BLOCK_SIZE !== 0) {
      throw new DiskError(`a write is whole blocks of ${BLOCK_SIZE} bytes`);
    }
    this.check(block, data.length / BLOCK_SIZE);
    const { bytesWritten } = await this.fh.write(data, 0, data.length, block * BLOCK_SIZE);
    if (bytesWritten !== data.length) throw new DiskError(`short write at block ${block}`);
  }

  async flush(): Promise<void> {
    await this.fh.datasync();
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
