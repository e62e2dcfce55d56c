// The CPU backend's run-time settings, as one object on the backend (`cpu.settings`): how many threads
// its parallel kernels use, and whether float32 matmul/linear/attention run the WebAssembly SIMD or the
// TypeScript kernels. The state stays where it is used (the thread pool, the WebAssembly runtime); this
// is the one public face of both, so core need not reach into kernel internals.

import { getNumThreads, setNumThreads } from './threads/pool.js';
import { getCpuKernels, setCpuKernels, type CpuKernels } from './wasm/runtime.js';

export type { CpuKernels };

export interface CpuSettings {
  /**
   * Threads the parallel kernels use, the caller included: LLMJP4_THREADS, else every core;
   * 1 = single-threaded. Setting it checks the value (a positive integer) and stops surplus workers.
   */
  threads: number;
  /**
   * Which float32 matmul/linear/attention kernels run: 'wasm' (WebAssembly SIMD, the default wherever
   * it validates) or 'ts' (TypeScript); LLMJP4_CPU_KERNELS=ts|wasm sets the default. Float64 always
   * runs the TypeScript kernels.
   */
  kernels: CpuKernels;
}

/** Accessors over the pool's and the runtime's own state, so both ways of setting agree. */
export const cpuSettings: CpuSettings = {
  get threads() {
    return getNumThreads();
  },
  set threads(n: number) {
    setNumThreads(n);
  },
  get kernels() {
    return getCpuKernels();
  },
  set kernels(k: CpuKernels) {
    setCpuKernels(k);
  },
};
