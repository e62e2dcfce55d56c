// Every op function, for core/index.ts and the Tensor methods.

export * from './binary.js';
export * from './cast.js';
export * from './compare.js';
export * from './indexing.js';
export * from './join.js';
export * from './loss.js';
export * from './matmul.js';
export * from './reduce.js';
export * from './softmax.js';
export * from './sort.js';
export * from './triangular.js';
export * from './unary.js';
export * from './views.js';
export * from './linear.js';
export * from './adamw.js';
export * from './rms_norm.js';
export * from './rope.js';
export * from './swiglu.js';
export * from './attention.js';
export * from './moe.js';
export * from './moe_router.js';
