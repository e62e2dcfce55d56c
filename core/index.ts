// The public API of the tensor core. Import from here: `import { tensor, randn } from './core/index.js'`.

export { Tensor, scalarTensor, type NestedArray, type Storage, type TensorLike } from './tensor.js';
export {
  tensor,
  zeros,
  ones,
  full,
  arange,
  eye,
  rand,
  randn,
  randint,
  zerosLike,
  onesLike,
  fullLike,
  randLike,
  randnLike,
} from './creation.js';
export type { CreateOptions, RandomOptions } from './creation.js';
export { Generator, manualSeed, defaultGenerator } from './random.js';
export { noGrad, isGradEnabled, withGradMode } from './grad_mode.js';
export { grad, type BackwardOptions } from './autograd.js';
export { apply, type Op, type Node, type Saved } from './op.js';
export {
  getBackend,
  setBackend,
  withBackend,
  selectBackend,
  cpu,
  getNumThreads,
  setNumThreads,
  getCpuKernels,
  setCpuKernels,
  type CpuKernels,
  type BackendName,
  type GpuModeName,
} from './backend.js';
export { dispose, keep, memoryStats, scope } from './memory.js';
export { enableProfile, profileRows, profileTable, resetProfile, type ProfileRow } from './profile.js';
export type {
  Backend,
  BackendMemory,
  MemoryStats,
  Buf,
  Kernel,
  KernelAttrs,
  KernelName,
  KernelTable,
  OutSpec,
} from './kernel_types.js';
export { DTYPES, isFloating, type DType, type TypedArray } from './dtype.js';
export { broadcastShapes, sizeOf, type Shape } from './shape.js';
export * from './ops/index.js';
