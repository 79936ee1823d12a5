/**
 * Object-level hot swapping (K42, DESIGN.md §4): the declarations a component makes and
 * the reports an update answers. Types only.
 *
 * A component declares its updatable classes in `defineServer({ objects })`; it makes
 * their instances with `create(Class, …args)` and holds `Obj<Class>` references — the
 * methods of the class, reached through the class's translation table — never the
 * instances themselves.
 *
 * Entry points: `Obj`, `ObjectDecl`, `ObjectDecls`, `ObjectUpdateReport`, `ObjectStats`.
 */

/** A class whose instances a factory makes. */
export type Ctor<T extends object = object> = new (...args: any[]) => T;

/** The method names of T (fields are not part of an object's interface). */
export type MethodKeys<T> = {
  [K in keyof T]: T[K] extends (...args: any[]) => unknown ? K : never;
}[keyof T];

/**
 * A reference to an updatable object: its methods only, called through the class's
 * translation table. The brand (never present at run time) tells the type-metadata
 * extractor which class the reference stands for, so state holding references is
 * transferred as state holding the objects.
 */
export type Obj<T extends object> = ObjOf<T, MethodKeys<T>>;

/**
 * A reference with its methods named: what a class uses for references to its own kind
 * (`next: ObjOf<Node, 'ping' | 'size'>`), where `Obj<Node>` would define Node's type
 * in terms of itself.
 */
export type ObjOf<T extends object, K extends keyof T> = { readonly [P in K]: T[P] } & { readonly __moltObject?: T };

/**
 * An adaptor method: keeps callers of an old interface working against the new
 * implementation (K42's interface adaptors). `self` is the new version's instance.
 */
export type AdaptorFn = (self: any, ...args: any[]) => unknown;

/** How a component declares one updatable class. */
export type ObjectDecl<T extends object = object> =
  | Ctor<T>
  | {
      class: Ctor<T>;
      /** Old method name → how the new implementation answers it. */
      adaptors?: Record<string, AdaptorFn>;
      /** The old constructor's arguments → a new instance (when the constructor's parameters changed). */
      construct?: (...args: never[]) => T;
    };

export type ObjectDecls = Record<string, ObjectDecl>;

/** Options of an object-level update. */
export interface ObjectUpdateOptions {
  /** Convert each instance on its next call instead of all at once. */
  lazy?: boolean;
  /** Eager mode: cancel (old implementation kept) if the calls in flight have not drained by then. */
  deadlineMs?: number;
}

/** One class in an object-level update's report. */
export interface ClassUpdateReport {
  name: string;
  action: 'swapped' | 'marked' | 'added' | 'unchanged';
  instances: number;
  /** Eager: instances converted at the swap. Lazy: 0 (they convert on their next call). */
  converted: number;
  /** Eager: calls held while the swap completed; calls that were in flight when it began. */
  held: number;
  inflightAtStart: number;
  /** Milliseconds of the forward phase (old calls draining), the block phase, and the transfer. */
  forwardMs: number;
  blockMs: number;
  transferMs: number;
}

export interface ObjectUpdateReport {
  mode: 'eager' | 'lazy';
  classes: ClassUpdateReport[];
  /** From the start of the update to its commit (µs: lazy updates are short). */
  totalUs: number;
  /**
   * Lazy: µs of the apply step itself — every class marked, its new interface installed
   * (built before, within `totalUs`); independent of the number of instances. Null when eager.
   */
  applyUs: number | null;
  /** Notes: handlers that differ in the new version (they stay the running ones), … */
  notes: string[];
}

/** One class's figures (for `service objects` and the benchmarks). */
export interface ObjectStats {
  name: string;
  version: number;
  instances: number;
  /** Lazy: instances still on an older implementation. */
  pending: number;
  /** Lazy conversions done, and those that failed (the instance kept its old implementation). */
  converted: number;
  failed: number;
  lastError: string | null;
  swapping: boolean;
}
