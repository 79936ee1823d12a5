/**
 * Message schemas: small runtime validators whose TypeScript types are inferred, so a
 * server's `protocol.ts` states each request's fields once and gets both the static
 * type (for its handler table) and the check that turns malformed input into EINVAL.
 *
 * Entry points: `t.*` builders, `Infer<S>`, `validate(schema, value) → error | null`,
 * `MessagesOf<P>`.
 */

export interface Schema<T> {
  readonly kind: string;
  /** Returns null if `v` is valid, else a description naming the offending path. */
  check(v: unknown, path: string): string | null;
  /** Phantom: the inferred type. */
  readonly _t?: T;
}
export type Infer<S> = S extends Schema<infer T> ? T : never;

const mk = <T>(kind: string, check: (v: unknown, path: string) => string | null): Schema<T> => ({ kind, check });
const got = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

type Optional<T> = Schema<T | undefined> & { readonly optional: true };
type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends { optional: true } ? K : never }[keyof S];
type ObjectOf<S extends Shape> = { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & {
  [K in OptionalKeys<S>]?: Infer<S[K]>;
};

export const t = {
  string: mk<string>('string', (v, p) => (typeof v === 'string' ? null : `${p}: expected string, got ${got(v)}`)),
  number: mk<number>('number', (v, p) => (typeof v === 'number' && !Number.isNaN(v) ? null : `${p}: expected number, got ${got(v)}`)),
  int: mk<number>('int', (v, p) => (Number.isSafeInteger(v) ? null : `${p}: expected integer, got ${got(v)}`)),
  boolean: mk<boolean>('boolean', (v, p) => (typeof v === 'boolean' ? null : `${p}: expected boolean, got ${got(v)}`)),
  /** Any structured-clone value. */
  any: mk<unknown>('any', () => null),
  literal<L extends string | number | boolean>(l: L): Schema<L> {
    return mk<L>('literal', (v, p) => (v === l ? null : `${p}: expected ${JSON.stringify(l)}, got ${JSON.stringify(v)}`));
  },
  oneOf<L extends string>(...ls: L[]): Schema<L> {
    return mk<L>('oneOf', (v, p) => (ls.includes(v as L) ? null : `${p}: expected one of ${ls.join('|')}, got ${JSON.stringify(v)}`));
  },
  array<T>(item: Schema<T>): Schema<T[]> {
    return mk<T[]>('array', (v, p) => {
      if (!Array.isArray(v)) return `${p}: expected array, got ${got(v)}`;
      for (let i = 0; i < v.length; i++) {
        const e = item.check(v[i], `${p}[${i}]`);
        if (e) return e;
      }
      return null;
    });
  },
  record<T>(value: Schema<T>): Schema<Record<string, T>> {
    return mk<Record<string, T>>('record', (v, p) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${p}: expected object, got ${got(v)}`;
      for (const [k, x] of Object.entries(v)) {
        const e = value.check(x, `${p}.${k}`);
        if (e) return e;
      }
      return null;
    });
  },
  object<S extends Shape>(shape: S): Schema<ObjectOf<S>> & { readonly fields: readonly string[] } {
    const keys = Object.keys(shape);
    return Object.assign(mk<ObjectOf<S>>('object', (v, p) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${p}: expected object, got ${got(v)}`;
      const o = v as Record<string, unknown>;
      for (const k of keys) {
        const s = shape[k]!;
        if (o[k] === undefined && (s as { optional?: boolean }).optional) continue;
        const e = s.check(o[k], p ? `${p}.${k}` : k);
        if (e) return e;
      }
      return null;
    }), { fields: keys });
  },
  optional<T>(s: Schema<T>): Optional<T> {
    return { kind: 'optional', optional: true, check: (v, p) => (v === undefined ? null : s.check(v, p)) };
  },
};

/** A protocol: message type → schema of its fields (header excluded). */
export type Protocol = Record<string, Schema<Record<string, unknown>>>;

/** The discriminated union of a protocol's messages. */
export type MessagesOf<P extends Protocol> = { [K in keyof P & string]: { type: K } & Infer<P[K]> }[keyof P & string];

export function validate(schema: Schema<unknown>, value: unknown): string | null {
  return schema.check(value, '');
}
