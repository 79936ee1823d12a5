/**
 * The object space of one component incarnation (one per worker, like the component
 * itself): the versioned factories of its updatable classes, their translation tables,
 * and the updates of those classes in place — eager (a mediated hot swap, all classes
 * or none) or lazy (every instance marked, each converted on its next call).
 *
 * Component code uses `create(Class, …args)` and `dispose(ref)`; the server library's
 * runtime declares the classes at start (`declareObjects`), runs object-level updates
 * (`updateObjects`), and gives process-level transfers the hooks that move the objects
 * with the state (`importHooks`, `checkHooks`).
 *
 * Entry points: `create`, `dispose`, `declareObjects`, `updateObjects`, `objectStats`,
 * `importHooks`, `checkHooks`, `adoptImported`.
 */
import type { CheckHooks } from '../update/check.js';
import type { ObjectHooks, TransferCallbacks } from '../update/transfer.js';
import type { StateMeta } from '../update/types.js';
import { ClassRecord, recordOf, type Impl, type RefObj } from './record.js';
import { swapClasses } from './swap.js';
import type { ClassUpdateReport, Ctor, Obj, ObjectDecl, ObjectDecls, ObjectStats, ObjectUpdateOptions, ObjectUpdateReport } from './types.js';

export class ObjectError extends Error {
  override name = 'ObjectError';
}

const DEFAULT_DEADLINE_MS = 2_000;

/** Declared name → record. */
const records = new Map<string, ClassRecord>();
/** Every class constructor ever declared (old versions included) → its record. */
const byCtor = new Map<Ctor, ClassRecord>();
let updating = false;
/** A component runtime declared its classes (outside one — unit tests, tools — classes register on first use). */
let declared = false;

interface VersionParts {
  classes?: Record<string, new (...args: never[]) => object>;
  transfer?: TransferCallbacks;
}

function implOf(decl: ObjectDecl, name: string, meta: StateMeta | undefined, parts: VersionParts, objectClasses: Record<string, Ctor>): Omit<Impl, 'ver'> {
  const cls = typeof decl === 'function' ? decl : decl?.class;
  if (typeof cls !== 'function') throw new ObjectError(`objects.${name} is not a class (declare objects: { ${name}: Class } or { ${name}: { class: Class } })`);
  const adaptors = typeof decl === 'function' ? {} : decl.adaptors ?? {};
  for (const [k, f] of Object.entries(adaptors)) if (typeof f !== 'function') throw new ObjectError(`objects.${name}.adaptors.${k} is not a function`);
  return {
    cls,
    adaptors,
    construct: typeof decl === 'function' ? undefined : decl.construct,
    typeName: meta?.objects?.[name] ?? cls.name,
    meta,
    classes: { ...(parts.classes ?? {}), ...objectClasses },
    transfer: parts.transfer ?? {},
  };
}

function classesOf(decls: ObjectDecls): Record<string, Ctor> {
  const out: Record<string, Ctor> = {};
  for (const d of Object.values(decls)) {
    const cls = typeof d === 'function' ? d : d?.class;
    if (typeof cls === 'function') out[cls.name] = cls;
  }
  return out;
}

/** The runtime, at start: the classes the running version declares. */
export function declareObjects(decls: ObjectDecls, parts: VersionParts, meta?: StateMeta): void {
  declared = true;
  records.clear();
  byCtor.clear();
  const objectClasses = classesOf(decls);
  for (const [name, decl] of Object.entries(decls)) {
    const rec = new ClassRecord(name, implOf(decl, name, meta, parts, objectClasses));
    records.set(name, rec);
    byCtor.set(rec.cur.cls, rec);
  }
}

function recordFor(cls: Ctor): ClassRecord {
  let rec = byCtor.get(cls) ?? records.get(cls?.name);
  if (!rec && !declared && typeof cls === 'function') {
    rec = new ClassRecord(cls.name, implOf(cls, cls.name, undefined, {}, { [cls.name]: cls }));
    records.set(cls.name, rec);
    byCtor.set(cls, rec);
  }
  if (!rec) throw new ObjectError(`${cls?.name ?? String(cls)} is not an updatable class of this component (declare it in defineServer({ objects }))`);
  return rec;
}

/** Make an instance of an updatable class (of its current implementation), behind a reference. */
export function create<T extends object, A extends unknown[]>(cls: new (...args: A) => T, ...args: A): Obj<T> {
  const rec = recordFor(cls as unknown as Ctor);
  return rec.create(cls as unknown as Ctor, args) as unknown as Obj<T>;
}

/** The component no longer holds this reference: drop it from its class's table. */
export function dispose(ref: Obj<object> | null | undefined): void {
  if (ref === null || ref === undefined) return;
  const rec = recordOf(ref);
  if (!rec) throw new ObjectError('dispose: not a reference to an updatable object');
  rec.dispose(ref as unknown as RefObj);
}

/** Is this value a reference to an updatable object? */
export function isObjectRef(v: unknown): boolean {
  return v !== null && typeof v === 'object' && recordOf(v) !== undefined;
}

export function objectStats(): ObjectStats[] {
  return [...records.values()].map((r) => r.stats());
}

/**
 * An object-level update: the classes of a new version (`decls`, with its metadata and
 * transfer callbacks) replace the running ones in place. Classes whose code did not
 * change are left alone; a class the new version lacks is refused (that needs a
 * process-level update).
 */
export async function updateObjects(decls: ObjectDecls, meta: StateMeta, parts: VersionParts, opts: ObjectUpdateOptions = {}): Promise<ObjectUpdateReport> {
  if (updating) throw new ObjectError('an object-level update of this component is already running');
  const t0 = performance.now();
  const missing = [...records.keys()].filter((n) => !Object.hasOwn(decls, n));
  if (missing.length > 0) throw new ObjectError(`the new version lacks the updatable class${missing.length > 1 ? 'es' : ''} ${missing.join(', ')} (removing a class needs a process-level update)`);
  const objectClasses = classesOf(decls);
  const reports: ClassUpdateReport[] = [];
  const steps: Array<{ rec: ClassRecord; target: Impl }> = [];
  const added: Array<[string, Omit<Impl, 'ver'>]> = [];
  for (const [name, decl] of Object.entries(decls)) {
    const impl = implOf(decl, name, meta, parts, objectClasses);
    if (!meta.types[impl.typeName]) throw new ObjectError(`class ${impl.typeName} is missing from the new version's type metadata`);
    const rec = records.get(name);
    if (!rec) {
      added.push([name, impl]);
      continue;
    }
    if (sameCode(rec.cur, impl)) {
      reports.push({ name, action: 'unchanged', instances: rec.live.size, converted: 0, held: 0, inflightAtStart: 0, forwardMs: 0, blockMs: 0, transferMs: 0 });
      continue;
    }
    steps.push({ rec, target: rec.newVersion(impl) });
  }
  updating = true;
  let applyUs: number | null = null;
  try {
    if (opts.lazy) {
      for (const { rec } of steps) {
        if (rec.med !== null) throw new ObjectError(`${rec.name} is being swapped`);
      }
      // Prepared first (the new interfaces built), then applied in one step: mark every
      // instance at once — the gate moves to the new version, so each reference (still on
      // its old one) takes the slow path once and converts there. O(classes), not O(instances).
      const built = steps.map(({ rec, target }) => rec.buildInterface(target));
      const a0 = performance.now();
      steps.forEach(({ rec, target }, i) => {
        rec.pending = rec.live.size;
        rec.impls.set(target.ver, target);
        rec.cur = target;
        rec.gate = target.ver;
        rec.installInterface(built[i]);
        byCtor.set(target.cls, rec);
      });
      applyUs = Math.round((performance.now() - a0) * 1000 * 1000) / 1000;
      for (const { rec } of steps) {
        reports.push({ name: rec.name, action: 'marked', instances: rec.live.size, converted: 0, held: 0, inflightAtStart: 0, forwardMs: 0, blockMs: 0, transferMs: 0 });
      }
    } else if (steps.length > 0) {
      reports.push(...(await swapClasses(steps, opts.deadlineMs ?? DEFAULT_DEADLINE_MS)));
      for (const { rec, target } of steps) byCtor.set(target.cls, rec);
    }
    for (const [name, impl] of added) {
      const rec = new ClassRecord(name, impl);
      records.set(name, rec);
      byCtor.set(impl.cls, rec);
      reports.push({ name, action: 'added', instances: 0, converted: 0, held: 0, inflightAtStart: 0, forwardMs: 0, blockMs: 0, transferMs: 0 });
    }
  } finally {
    updating = false;
  }
  return { mode: opts.lazy ? 'lazy' : 'eager', classes: reports, totalUs: Math.round((performance.now() - t0) * 1000), applyUs, notes: [] };
}

/** Unchanged code: the same class text and the same adaptors (a new bundle re-creates equal classes). */
function sameCode(a: Omit<Impl, 'ver'>, b: Omit<Impl, 'ver'>): boolean {
  if (a.cls === b.cls) return true;
  if (String(a.cls) !== String(b.cls)) return false;
  const ka = Object.keys(a.adaptors);
  const kb = Object.keys(b.adaptors);
  return ka.length === kb.length && ka.every((k) => String(a.adaptors[k]) === String(b.adaptors[k]));
}

/** New references made by the running import, by class: they replace the tables when it commits. */
let imported: Map<ClassRecord, RefObj[]> | null = null;

/**
 * A process-level transfer into this incarnation: references in the old state (tagged
 * `ObjRef` by the copy) carry their instance across; every new instance of an
 * updatable class gets a new reference of this version.
 */
export function importHooks(track: boolean): ObjectHooks {
  const made = new Map<ClassRecord, RefObj[]>();
  if (track) imported = made;
  const byType = new Map<string, ClassRecord>();
  for (const rec of records.values()) byType.set(rec.cur.typeName, rec);
  return {
    ref: (v, tag) => {
      if (tag === 'ObjRef' && Object.hasOwn(v, 'o')) return { impl: (v as { o: object }).o };
      const rec = recordOf(v);
      return rec ? { impl: (v as RefObj).o } : null;
    },
    wrap: (name, instance) => {
      const rec = byType.get(name);
      if (!rec) return null;
      const ref = new rec.Ref(instance, rec.cur.ver);
      let list = made.get(rec);
      if (!list) made.set(rec, (list = []));
      list.push(ref);
      return ref;
    },
  };
}

/** The import committed: the tables hold exactly the references of the imported state. */
export function adoptImported(): void {
  if (!imported) return;
  for (const rec of records.values()) {
    rec.live.clear();
    for (const ref of imported.get(rec) ?? []) rec.live.add(ref);
  }
  imported = null;
}

/** The import failed: forget what it made. */
export function discardImported(): void {
  imported = null;
}

export const checkHooks: CheckHooks = {
  unwrap: (v) => {
    const rec = recordOf(v);
    return rec && records.get(rec.name) === rec ? (v as RefObj).o : undefined;
  },
};

/** Every updatable class of the running version, by class name (for the transfer's class registry). */
export function objectClasses(): Record<string, Ctor> {
  const out: Record<string, Ctor> = {};
  for (const rec of records.values()) out[rec.cur.typeName] = rec.cur.cls;
  return out;
}
