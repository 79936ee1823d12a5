/**
 * Transfer plans: what a live update from one version's state type to another's would
 * do, computed from the two metadata sets alone (`service update --dry-run`): types and
 * fields added, removed and converted, where a callback is needed, what would be refused.
 *
 * Entry point: `planTransfer(oldMeta, newMeta, pairing) → TransferPlan`.
 */
import { typeText } from './transfer.js';
import type { StateMeta, TypeMeta } from './types.js';

export interface TransferPlan {
  typesAdded: string[];
  typesRemoved: string[];
  /** `Type.field` → how its value is obtained. */
  fieldsAdded: string[];
  fieldsRemoved: string[];
  /** `Type.field: old → new (rule)`. */
  converted: string[];
  /** Changes the default rules refuse: each needs a callback, or the update rolls back. */
  refused: string[];
  unchanged: number;
}

export function planTransfer(oldMeta: StateMeta, newMeta: StateMeta, pairing: { types?: Record<string, string> } = {}): TransferPlan {
  const plan: TransferPlan = { typesAdded: [], typesRemoved: [], fieldsAdded: [], fieldsRemoved: [], converted: [], refused: [], unchanged: 0 };
  const oldName = (n: string) => pairing.types?.[n] ?? n;
  const pairedOld = new Set<string>();
  compareTypes('state', oldMeta.root, newMeta.root, plan, oldMeta, newMeta);
  for (const [name, nt] of Object.entries(newMeta.types)) {
    const ot = oldMeta.types[oldName(name)];
    if (!ot) {
      plan.typesAdded.push(name);
      continue;
    }
    pairedOld.add(ot.name);
    const oldFields = new Map(ot.fields.map((f) => [f.name, f]));
    for (const f of nt.fields) {
      const of = oldFields.get(f.name);
      oldFields.delete(f.name);
      if (!of) {
        plan.fieldsAdded.push(`${name}.${f.name}${f.optional ? ' (optional: absent)' : ' (initial value from init, else zero value)'}`);
        continue;
      }
      compareTypes(`${name}.${f.name}`, of.type, f.type, plan, oldMeta, newMeta);
    }
    for (const f of oldFields.keys()) plan.fieldsRemoved.push(`${name}.${f}`);
  }
  for (const name of Object.keys(oldMeta.types)) if (!pairedOld.has(name)) plan.typesRemoved.push(name);
  return plan;
}

function compareTypes(path: string, o: TypeMeta, n: TypeMeta, plan: TransferPlan, om: StateMeta, nm: StateMeta): void {
  const a = typeText(o);
  const b = typeText(n);
  if (a === b) {
    plan.unchanged++;
    return;
  }
  const rule = conversion(o, n, om, nm);
  if (rule) plan.converted.push(`${path}: ${a} → ${b} (${rule})`);
  else plan.refused.push(`${path}: ${a} → ${b} (no default rule: add a field or type transfer callback)`);
}

/** The default rule converting values of `o` to `n`, or null where none applies. */
function conversion(o: TypeMeta, n: TypeMeta, om: StateMeta, nm: StateMeta): string | null {
  if (n.k === 'unknown') return 'kept as is';
  if (n.k === 'union') {
    const members = o.k === 'union' ? o.of : [o];
    return members.every((m) => n.of.some((x) => typeText(x) === typeText(m) || conversion(m, x, om, nm))) ? 'each member fits the new union' : null;
  }
  if (o.k === 'union') return o.of.every((m) => typeText(m) === typeText(n) || conversion(m, n, om, nm)) ? 'each member converts' : null;
  if (o.k === 'literal' && typeof o.value === n.k) return 'literal widened';
  const pair = `${o.k}→${n.k}`;
  switch (pair) {
    case 'number→bigint': return 'number → bigint (integers)';
    case 'bigint→number': return 'bigint → number (where lossless)';
    case 'number→string': return 'number → string';
    case 'bigint→string': return 'bigint → string';
    case 'string→number': return 'numeric string → number';
    case 'array→array': case 'array→tuple': case 'tuple→array': case 'tuple→tuple':
      return 'elements converted, truncated or extended';
    case 'map→map': return 'keys and values converted';
    case 'set→set': return 'items converted';
    case 'ref→ref': case 'object→ref': case 'ref→object': case 'object→object':
      return 'fields paired by name';
  }
  return null;
}
