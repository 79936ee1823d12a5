/**
 * The metadata worker: runs the TypeScript compiler (src/update/metadata.ts) off the
 * kernel's thread, so building a version never stalls message routing.
 * Protocol: `{ id, file }` in, `{ id, ok: true, meta } | { id, ok: false, error }` out.
 */
import { parentPort } from 'node:worker_threads';
import { extractStateMeta } from './metadata.js';

parentPort!.on('message', (req: { id: number; file: string }) => {
  try {
    parentPort!.postMessage({ id: req.id, ok: true, meta: extractStateMeta(req.file) });
  } catch (e) {
    parentPort!.postMessage({ id: req.id, ok: false, error: (e as Error).message });
  }
});
