/**
 * Type metadata: a JSON description of a component's state type, extracted from its
 * TypeScript source (src/update/metadata.ts) and used to transfer and check state
 * across versions. Types only.
 *
 * Entry points: `TypeMeta`, `NamedType`, `FieldMeta`, `StateMeta`.
 */

export type TypedArrayName =
  | 'Int8Array' | 'Uint8Array' | 'Uint8ClampedArray' | 'Int16Array' | 'Uint16Array'
  | 'Int32Array' | 'Uint32Array' | 'Float32Array' | 'Float64Array' | 'BigInt64Array' | 'BigUint64Array';

export const TYPED_ARRAY_NAMES: readonly TypedArrayName[] = [
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array',
  'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
];

export type TypeMeta =
  | { k: 'string' }
  | { k: 'number' }
  | { k: 'boolean' }
  | { k: 'bigint' }
  | { k: 'null' }
  | { k: 'undefined' }
  | { k: 'literal'; value: string | number | boolean }
  | { k: 'unknown' }
  | { k: 'array'; of: TypeMeta }
  | { k: 'tuple'; items: TypeMeta[]; required: number; rest?: TypeMeta }
  | { k: 'map'; key: TypeMeta; value: TypeMeta }
  | { k: 'set'; of: TypeMeta }
  | { k: 'date' }
  | { k: 'typed'; name: TypedArrayName }
  | { k: 'union'; of: TypeMeta[] }
  | { k: 'object'; fields: FieldMeta[]; index?: TypeMeta }
  /** A named type (interface, class, alias of an object type) in `StateMeta.types`. */
  | { k: 'ref'; name: string }
  /** Functions cannot be transferred: a state containing one is refused at check. */
  | { k: 'function' };

export interface FieldMeta {
  name: string;
  type: TypeMeta;
  optional: boolean;
}

export interface NamedType {
  name: string;
  kind: 'interface' | 'class' | 'alias';
  fields: FieldMeta[];
  /** `[key: string]: T` index signature. */
  index?: TypeMeta;
}

export interface StateMeta {
  root: TypeMeta;
  types: Record<string, NamedType>;
  /**
   * The updatable classes the component declares (`defineServer({ objects })`, src/objects):
   * declared name → the class's entry in `types`. Absent when it declares none.
   */
  objects?: Record<string, string>;
}
