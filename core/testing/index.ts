// Property-test machinery for tensor ops, exported for use outside this repo:
// gradcheck, fast-check arbitraries for shapes/tensors/layouts, a reference NDArray, and checkOp.

export * from './arbitraries.js';
export * from './check_backend.js';
export * from './check_fused.js';
export * from './check_op.js';
export * from './gradcheck.js';
export * from './tolerance.js';
export * as ndarray from './ndarray.js';
export type { NDArray } from './ndarray.js';
