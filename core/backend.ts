// Which backend new tensors are created on. Backends are plain objects passed in explicitly —
// nothing registers itself by being imported. The CPU backend is the default and always present.

import { cpu } from '../kernels/cpu/index.js';
import type { Backend } from './kernel_types.js';

let current: Backend<any> = cpu;

/** The backend that creation functions (tensor, zeros, randn, ...) put new tensors on. */
export function getBackend(): Backend<any> {
  return current;
}

export function setBackend(backend: Backend<any>): void {
  current = backend;
}

/** Run `fn` with `backend` as the current one, restoring the previous afterwards. */
export function withBackend<T>(backend: Backend<any>, fn: () => T): T {
  const prev = current;
  current = backend;
  try {
    return fn();
  } finally {
    current = prev;
  }
}

export { cpu };

/** Threads the CPU kernels use (the caller included): LLMJP4_THREADS, else every core; setNumThreads(1) = single-threaded. */
export { getNumThreads, setNumThreads } from '../kernels/cpu/threads/pool.js';

/**
 * Which float32 matmul/linear/attention kernels the CPU backend runs: 'wasm' (WebAssembly SIMD, the
 * default wherever it validates) or 'ts' (TypeScript); LLMJP4_CPU_KERNELS=ts|wasm sets the default.
 * Float64 always runs the TypeScript kernels.
 */
export { getCpuKernels, setCpuKernels, type CpuKernels } from '../kernels/cpu/wasm/runtime.js';
