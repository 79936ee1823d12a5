/**
 * disk state: the device's geometry (asked of the kernel at init) and request
 * counters. All of the driver's state is reachable from `DiskState`.
 */
import type { DiskInfoReply } from './protocol.js';

export interface DiskCounters {
  requests: number;
  reads: number;
  writes: number;
  flushes: number;
  blocksRead: number;
  blocksWritten: number;
  errors: number;
}

export interface DiskState {
  /** null: the system has no disk device (every request answers ENOENT). */
  info: DiskInfoReply | null;
  counters: DiskCounters;
}
