/**
 * Byte helpers shared by the kernel's devices and the daemons (pure, no Node APIs).
 *
 * Entry point: `concatBytes(parts, total?)`.
 */

/** The parts one after another in one new array (`total`: their summed length, if known). */
export function concatBytes(parts: readonly Uint8Array[], total = parts.reduce((n, p) => n + p.length, 0)): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
