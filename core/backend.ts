// Which backend new tensors are created on. Backends are plain objects passed in explicitly —
// nothing registers itself by being imported. The CPU backend is the default and always present;
// `selectBackend` makes the GPU backend (gpu.js, loaded only when asked for) from a name and mode,
// or from LLMJP4_BACKEND / LLMJP4_GPU_MODE. The CPU backend's own settings (threads, ts/wasm kernels)
// keep their core names here as thin functions over `cpu.settings`.

import { cpu } from '../kernels/cpu/index.js';
import type { Backend } from './kernel_types.js';
import type { CpuKernels } from '../kernels/cpu/settings.js';

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

export { cpu, type CpuKernels };

export type BackendName = 'cpu' | 'gpu';
export type GpuModeName = 'webgpu' | 'headlessgl' | 'webgl2' | 'webgl' | 'webasm' | 'cpu' | 'auto';

/**
 * The backend a name asks for: 'cpu' (the default), or 'gpu' in a gpu.js mode ('auto' takes the
 * first that works of webgpu → headlessgl → webasm). Unset arguments come from LLMJP4_BACKEND and
 * LLMJP4_GPU_MODE. Async because opening a GPU mode runs a probe kernel; it does not set the current
 * backend — pass the result to setBackend.
 */
export async function selectBackend(opts: { backend?: string; mode?: string } = {}): Promise<Backend<any>> {
  const name = opts.backend ?? process.env.LLMJP4_BACKEND ?? 'cpu';
  if (name === 'cpu') return cpu;
  if (name !== 'gpu') throw new Error(`backend: unknown backend '${name}'; choose cpu or gpu (LLMJP4_BACKEND / --backend)`);
  const mode = opts.mode ?? process.env.LLMJP4_GPU_MODE ?? 'auto';
  const modes: readonly string[] = ['webgpu', 'headlessgl', 'webgl2', 'webgl', 'webasm', 'cpu', 'auto'];
  if (!modes.includes(mode))
    throw new Error(`backend: unknown gpu mode '${mode}'; choose one of ${modes.join(', ')} (LLMJP4_GPU_MODE / --gpu-mode)`);
  // Loaded here, not at the top: CPU users never load gpu.js.
  const { createGpuBackend } = await import('../kernels/gpu/index.js');
  return createGpuBackend({ mode: mode as GpuModeName });
}

/**
 * Threads the CPU kernels use (the caller included): LLMJP4_THREADS, else every core; setNumThreads(1) =
 * single-threaded. The CPU backend's `settings.threads`, under the names core has always exported.
 */
export function getNumThreads(): number {
  return cpu.settings.threads;
}

export function setNumThreads(n: number): void {
  cpu.settings.threads = n;
}

/**
 * Which float32 matmul/linear/attention kernels the CPU backend runs: 'wasm' (WebAssembly SIMD, the
 * default wherever it validates) or 'ts' (TypeScript); LLMJP4_CPU_KERNELS=ts|wasm sets the default.
 * Float64 always runs the TypeScript kernels. The CPU backend's `settings.kernels`.
 */
export function getCpuKernels(): CpuKernels {
  return cpu.settings.kernels;
}

export function setCpuKernels(kernels: CpuKernels): void {
  cpu.settings.kernels = kernels;
}
