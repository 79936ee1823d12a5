/**
 * Object-level hot swapping (K42, DESIGN.md §4): what a component imports.
 *
 *   import { create, dispose, type Obj } from '../../objects/index.js';
 *   defineServer({ objects: { Counter }, init: () => ({ c: create(Counter, 0) }), … })
 *
 * Entry points: `create`, `dispose`, `isObjectRef`, `objectStats`, `Obj`, `ObjectDecls`.
 */
export { create, dispose, isObjectRef, objectStats, ObjectError } from './space.js';
export { SwapError } from './swap.js';
export type { Obj, ObjOf, ObjectDecl, ObjectDecls, ObjectStats, ObjectUpdateReport, ClassUpdateReport, AdaptorFn } from './types.js';
