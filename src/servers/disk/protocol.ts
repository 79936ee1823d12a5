/**
 * disk protocol: the block driver over the kernel's disk device. Whole blocks of
 * `BLOCK_SIZE` bytes; `disk.flush` returns once every completed write is durable.
 */
import { t, type MessagesOf } from '../../sys/schema.js';

export const BLOCK_SIZE = 4096;

export const diskProtocol = {
  'disk.info': t.object({}),
  /** → Uint8Array of count * BLOCK_SIZE bytes. */
  'disk.read': t.object({ block: t.int, count: t.int }),
  /** `data.length` must be a positive multiple of BLOCK_SIZE. */
  'disk.write': t.object({ block: t.int, data: t.any }),
  'disk.flush': t.object({}),
  // ── added with the server ──
  /** Request counters → DiskStats. */
  'disk.stats': t.object({}),
} as const;

/** Most blocks one disk.read / disk.write may move (16 MiB). */
export const MAX_REQUEST_BLOCKS = 4096;

/** What `disk.stats` answers. */
export interface DiskStats {
  /** Requests answered (all types). */
  requests: number;
  reads: number;
  writes: number;
  flushes: number;
  blocksRead: number;
  blocksWritten: number;
  /** Requests that failed (bad input or a device error). */
  errors: number;
}

export type DiskRequest = MessagesOf<typeof diskProtocol>;

export interface DiskInfoReply {
  blockSize: number;
  blocks: number;
  /** This boot created the image: it holds no file system yet. */
  created: boolean;
}
