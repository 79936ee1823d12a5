/**
 * Type metadata extraction: reads a component's entry file with the TypeScript
 * compiler API, finds its state root type (the return type of the default export's
 * `init`), and describes it — and every named type it reaches — as `StateMeta`.
 * This is Molt's "compiler instrumentation": it is what lets state be transferred and
 * checked without annotations.
 *
 * A source that does not compile, or a state type that cannot be described (a
 * Promise, a WeakMap, a symbol, …), is refused with a `MetadataError` naming the path.
 *
 * Entry point: `extractStateMeta(entryFile) → StateMeta`.
 */
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import ts from 'typescript';
import { TYPED_ARRAY_NAMES, type FieldMeta, type NamedType, type StateMeta, type TypeMeta, type TypedArrayName } from './types.js';

export class MetadataError extends Error {
  override name = 'MetadataError';
}

const COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ['lib.es2023.d.ts'],
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  // Components are checked as the project is: with Node's types (TextEncoder, timers, …).
  types: ['node'],
  typeRoots: [typeRoot()],
  allowImportingTsExtensions: true,
};

/** node_modules/@types of the Molt package, wherever the component's source lives. */
function typeRoot(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('@types/node/package.json')), '..');
  } catch {
    return join(process.cwd(), 'node_modules', '@types');
  }
}

export function extractStateMeta(entryFile: string): StateMeta {
  const program = ts.createProgram([entryFile], COMPILER_OPTIONS);
  const source = program.getSourceFile(entryFile);
  if (!source) throw new MetadataError(`cannot read ${entryFile}`);
  const diags = [...program.getSyntacticDiagnostics(), ...program.getSemanticDiagnostics()].filter(
    (d) => d.category === ts.DiagnosticCategory.Error && !d.file?.isDeclarationFile,
  );
  if (diags.length > 0) {
    throw new MetadataError(`${entryFile} does not compile:\n${ts.formatDiagnostics(diags.slice(0, 10), formatHost)}`);
  }
  const checker = program.getTypeChecker();
  const stateType = findStateType(checker, source, entryFile);
  const describer = new Describer(checker);
  const meta = describer.describeRoot(stateType);
  const objects = findObjectClasses(checker, source);
  if (objects.length > 0) {
    meta.objects = {};
    for (const [name, instance] of objects) {
      let d = describer.describeObjectClass(instance, `objects.${name}`);
      // The state's type may name another class of the same name (a version reusing the
      // state types of an earlier one, with a new `List`): at run time every instance of
      // that name is made by the class declared here, so the declared class is what the
      // name means.
      const base = d.replace(/#\d+$/, '');
      if (base !== d && meta.types[base]?.kind === 'class') {
        meta.types[base] = { ...meta.types[d]!, name: base };
        delete meta.types[d];
        d = base;
      }
      meta.objects[name] = d;
    }
  }
  return meta;
}

/**
 * The updatable classes of `defineServer({ objects: { Name: Class | { class: Class, … } } })`:
 * declared name → the class's instance type.
 */
function findObjectClasses(checker: ts.TypeChecker, source: ts.SourceFile): Array<[string, ts.Type]> {
  const moduleSymbol = checker.getSymbolAtLocation(source);
  const def = moduleSymbol && checker.getExportsOfModule(moduleSymbol).find((s) => s.escapedName === 'default');
  if (!def) return [];
  // The declared type of `objects` (ServerDef's) has no names: read the expression written
  // in `defineServer({ …, objects: {…} })` where there is one.
  const written = objectsExpression(source);
  let objectsType: ts.Type;
  if (written) {
    objectsType = checker.getTypeAtLocation(written);
  } else {
    const objects = checker.getTypeOfSymbolAtLocation(def, source).getProperty('objects');
    if (!objects) return [];
    objectsType = checker.getNonNullableType(checker.getTypeOfSymbolAtLocation(objects, source));
  }
  const out: Array<[string, ts.Type]> = [];
  for (const prop of checker.getPropertiesOfType(objectsType)) {
    let t = checker.getTypeOfSymbolAtLocation(prop, source);
    const cls = t.getProperty('class');
    if (t.getConstructSignatures().length === 0 && cls) t = checker.getTypeOfSymbolAtLocation(cls, source);
    const sig = t.getConstructSignatures()[0];
    if (!sig) throw new MetadataError(`objects.${prop.getName()} is not a class (declare objects: { Name: Class } or { Name: { class: Class } })`);
    out.push([prop.getName(), checker.getReturnTypeOfSignature(sig)]);
  }
  return out;
}

const formatHost: ts.FormatDiagnosticsHost = {
  getCanonicalFileName: (f) => f,
  getCurrentDirectory: () => process.cwd(),
  getNewLine: () => '\n',
};

/** `objects: …` in the object literal of `export default defineServer({...})`, if written there. */
function objectsExpression(source: ts.SourceFile): ts.Expression | null {
  for (const st of source.statements) {
    if (!ts.isExportAssignment(st) || st.isExportEquals) continue;
    let e: ts.Expression = st.expression;
    while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e)) e = e.expression;
    if (!ts.isCallExpression(e)) return null;
    const arg = e.arguments[0];
    if (!arg || !ts.isObjectLiteralExpression(arg)) return null;
    for (const p of arg.properties) {
      if (p.name && ts.isIdentifier(p.name) && p.name.text === 'objects') {
        if (ts.isPropertyAssignment(p)) return p.initializer;
        if (ts.isShorthandPropertyAssignment(p)) return p.name;
      }
    }
  }
  return null;
}

/** The state root: the (awaited) return type of the default export's `init`. */
function findStateType(checker: ts.TypeChecker, source: ts.SourceFile, file: string): ts.Type {
  const moduleSymbol = checker.getSymbolAtLocation(source);
  const def = moduleSymbol && checker.getExportsOfModule(moduleSymbol).find((s) => s.escapedName === 'default');
  if (!def) throw new MetadataError(`${file} has no default export (a component default-exports defineServer({...}))`);
  const defType = checker.getTypeOfSymbolAtLocation(def, source);
  const init = defType.getProperty('init');
  if (!init) throw new MetadataError(`${file}: the default export has no init (is it a defineServer({...})?)`);
  const sigs = checker.getTypeOfSymbolAtLocation(init, source).getCallSignatures();
  if (sigs.length === 0) throw new MetadataError(`${file}: init is not a function`);
  const ret = checker.getReturnTypeOfSignature(sigs[0]!);
  return checker.getAwaitedType(ret) ?? ret;
}

class Describer {
  private readonly types: Record<string, NamedType> = {};
  private readonly names = new Map<ts.Type, string>();

  constructor(private readonly checker: ts.TypeChecker) {}

  describeRoot(t: ts.Type): StateMeta {
    const root = this.describe(t, 'state');
    return { root, types: this.types };
  }

  /** An updatable class's instance type, added to the type table: its name there. */
  describeObjectClass(t: ts.Type, path: string): string {
    const d = this.describe(t, path);
    if (d.k !== 'ref' || this.types[d.name]?.kind !== 'class') throw new MetadataError(`${path}: not a class`);
    return d.name;
  }

  private describe(t: ts.Type, path: string): TypeMeta {
    const f = t.flags;
    if (f & ts.TypeFlags.Any) throw new MetadataError(`${path}: type any cannot be described (give it a type)`);
    if (f & ts.TypeFlags.Unknown) return { k: 'unknown' };
    if (f & ts.TypeFlags.StringLiteral) return { k: 'literal', value: (t as ts.StringLiteralType).value };
    if (f & ts.TypeFlags.NumberLiteral) return { k: 'literal', value: (t as ts.NumberLiteralType).value };
    if (f & ts.TypeFlags.BooleanLiteral) return { k: 'literal', value: this.checker.typeToString(t) === 'true' };
    if (f & ts.TypeFlags.EnumLiteral && t.isUnion()) return this.union(t.types, path);
    if (f & ts.TypeFlags.String) return { k: 'string' };
    if (f & ts.TypeFlags.Number) return { k: 'number' };
    if (f & ts.TypeFlags.Boolean) return { k: 'boolean' };
    if (f & ts.TypeFlags.BigInt) return { k: 'bigint' };
    if (f & ts.TypeFlags.BigIntLiteral) return { k: 'bigint' };
    if (f & ts.TypeFlags.Null) return { k: 'null' };
    if (f & (ts.TypeFlags.Undefined | ts.TypeFlags.Void)) return { k: 'undefined' };
    if (t.isUnion()) return this.union(t.types, path);
    // A reference to an updatable object (`Obj<T>`, src/objects) stands for a T.
    const target = this.objectTarget(t);
    if (target) return this.describe(target, path);
    if (t.isIntersection()) return this.object(t, path);
    if (f & (ts.TypeFlags.ESSymbolLike | ts.TypeFlags.Never | ts.TypeFlags.TypeParameter | ts.TypeFlags.Conditional)) {
      throw new MetadataError(`${path}: type ${this.checker.typeToString(t)} cannot be described`);
    }
    if (this.checker.isTupleType(t)) return this.tuple(t as ts.TupleTypeReference, path);
    if (this.checker.isArrayType(t)) {
      const [el] = this.checker.getTypeArguments(t as ts.TypeReference);
      return { k: 'array', of: this.describe(el!, `${path}[]`) };
    }
    const symName = (t.getSymbol() ?? t.aliasSymbol)?.getName();
    if (symName && BUILTINS.has(symName) && isLib(t)) return this.builtin(t, symName, path);
    if (t.getCallSignatures().length > 0 && t.getProperties().length === 0) return { k: 'function' };
    if (f & ts.TypeFlags.Object) return this.object(t, path);
    throw new MetadataError(`${path}: type ${this.checker.typeToString(t)} cannot be described`);
  }

  /** `Obj<T>` carries its class in an optional brand property: T, or null for any other type. */
  private objectTarget(t: ts.Type): ts.Type | null {
    if (!(t.flags & ts.TypeFlags.Object) && !t.isIntersection()) return null;
    const brand = t.getProperty(OBJ_BRAND);
    if (!brand) return null;
    return this.checker.getNonNullableType(this.checker.getTypeOfSymbol(brand));
  }

  private union(members: readonly ts.Type[], path: string): TypeMeta {
    const of: TypeMeta[] = [];
    let hasTrue = false;
    let hasFalse = false;
    for (const m of members) {
      const d = this.describe(m, path);
      if (d.k === 'literal' && d.value === true) hasTrue = true;
      else if (d.k === 'literal' && d.value === false) hasFalse = true;
      else of.push(d);
    }
    if (hasTrue && hasFalse) of.push({ k: 'boolean' });
    else if (hasTrue) of.push({ k: 'literal', value: true });
    else if (hasFalse) of.push({ k: 'literal', value: false });
    return of.length === 1 ? of[0]! : { k: 'union', of };
  }

  private tuple(t: ts.TupleTypeReference, path: string): TypeMeta {
    const args = this.checker.getTypeArguments(t);
    const flags = t.target.elementFlags;
    const items: TypeMeta[] = [];
    let required = 0;
    let rest: TypeMeta | undefined;
    args.forEach((a, i) => {
      const ef = flags[i] ?? ts.ElementFlags.Required;
      const d = this.describe(a, `${path}[${i}]`);
      if (ef & ts.ElementFlags.Variable) rest = d;
      else {
        items.push(d);
        if (ef & ts.ElementFlags.Required) required = items.length;
      }
    });
    return rest ? { k: 'tuple', items, required, rest } : { k: 'tuple', items, required };
  }

  private builtin(t: ts.Type, name: string, path: string): TypeMeta {
    const args = (t as ts.TypeReference).target ? this.checker.getTypeArguments(t as ts.TypeReference) : [];
    switch (name) {
      case 'Map':
      case 'ReadonlyMap':
        return { k: 'map', key: this.describe(args[0]!, `${path}.key`), value: this.describe(args[1]!, `${path}.get()`) };
      case 'Set':
      case 'ReadonlySet':
        return { k: 'set', of: this.describe(args[0]!, `${path}.item`) };
      case 'Date':
        return { k: 'date' };
      case 'Array':
      case 'ReadonlyArray':
        return { k: 'array', of: this.describe(args[0]!, `${path}[]`) };
      case 'Function':
        return { k: 'function' };
      case 'Record':
        return this.shape(t, path);
    }
    if ((TYPED_ARRAY_NAMES as readonly string[]).includes(name)) return { k: 'typed', name: name as TypedArrayName };
    if (t.getCallSignatures().length > 0) return { k: 'function' };
    throw new MetadataError(`${path}: ${name} cannot be transferred (state may hold plain data, Map, Set, Date, typed arrays and class instances)`);
  }

  /** Objects: named (interface, class, alias) go to the type table and are referenced by name. */
  private object(t: ts.Type, path: string): TypeMeta {
    const sym = t.aliasSymbol ?? t.getSymbol();
    const rawName = sym?.getName();
    const anonymous = !rawName || rawName === '__type' || rawName === '__object' || t.isIntersection();
    if (anonymous && !t.aliasSymbol) return this.shape(t, path);
    const known = this.names.get(t);
    if (known) return { k: 'ref', name: known };
    const name = this.uniqueName(t, rawName!);
    const isClass = Boolean(sym && sym.flags & ts.SymbolFlags.Class) && !t.aliasSymbol;
    const kind: NamedType['kind'] = isClass ? 'class' : t.aliasSymbol ? 'alias' : 'interface';
    const entry: NamedType = { name, kind, fields: [] };
    this.types[name] = entry; // registered before descending: recursive types terminate
    const shape = this.shape(t, path);
    if (shape.k === 'object') {
      entry.fields = shape.fields;
      if (shape.index) entry.index = shape.index;
    }
    return { k: 'ref', name };
  }

  private uniqueName(t: ts.Type, base: string): string {
    const text = this.checker.typeToString(t, undefined, ts.TypeFormatFlags.NoTruncation);
    let name = /^[\w$.<>, []|]+$/.test(text) ? text : base;
    for (let i = 2; this.types[name]; i++) name = `${base}#${i}`;
    this.names.set(t, name);
    return name;
  }

  private shape(t: ts.Type, path: string): TypeMeta {
    const fields: FieldMeta[] = [];
    for (const prop of this.checker.getPropertiesOfType(t)) {
      const decl = prop.valueDeclaration ?? prop.declarations?.[0];
      if (decl && (ts.isMethodDeclaration(decl) || ts.isMethodSignature(decl) || ts.isGetAccessor(decl) || ts.isSetAccessor(decl))) continue;
      if (prop.flags & ts.SymbolFlags.Method) continue;
      if (decl && ts.getCombinedModifierFlags(decl as ts.Declaration) & ts.ModifierFlags.Static) continue;
      const optional = Boolean(prop.flags & ts.SymbolFlags.Optional);
      const name = prop.getName();
      let type = this.describe(this.checker.getTypeOfSymbol(prop), `${path}.${name}`);
      if (optional) type = withoutUndefined(type);
      fields.push({ name, type, optional });
    }
    const idx = this.checker.getIndexInfoOfType(t, ts.IndexKind.String);
    return idx ? { k: 'object', fields, index: this.describe(idx.type, `${path}[key]`) } : { k: 'object', fields };
  }
}

/** The brand property of `Obj<T>` (src/objects/types.ts). */
const OBJ_BRAND = '__moltObject';

/** Library types with a meaning of their own; other library types (Partial<T>, …) are described by shape. */
const BUILTINS = new Set([
  'Map', 'ReadonlyMap', 'Set', 'ReadonlySet', 'Date', 'Array', 'ReadonlyArray', 'Function', 'Record',
  ...TYPED_ARRAY_NAMES, 'Promise', 'WeakMap', 'WeakSet', 'WeakRef', 'RegExp', 'Error', 'ArrayBuffer', 'SharedArrayBuffer', 'DataView',
]);

/** `T | undefined` → `T` (an optional field states its absence by being optional). */
function withoutUndefined(t: TypeMeta): TypeMeta {
  if (t.k !== 'union') return t;
  const of = t.of.filter((m) => m.k !== 'undefined');
  return of.length === 1 ? of[0]! : { k: 'union', of };
}

/** Is this type declared in a default library file (Map, Date, Uint8Array, …)? */
function isLib(t: ts.Type): boolean {
  const decl = (t.aliasSymbol ?? t.getSymbol())?.declarations?.[0];
  const file = decl?.getSourceFile().fileName ?? '';
  return /[\\/]typescript[\\/]lib[\\/]lib\..*\.d\.ts$/.test(file);
}
