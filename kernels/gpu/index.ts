// The GPU backend (gpu.js): `await createGpuBackend({ mode })` opens a gpu.js mode — webgpu,
// headlessgl, webasm or cpu, or `auto` (the first that works of webgpu → headlessgl → webasm) — and
// returns a Backend whose storage stays on the device. Nothing here registers itself; pass the
// backend to setBackend/withBackend or creation options. Every dtype is stored as float32 (int32 and
// bool exactly, below 2^24); float64 stays on the CPU backend.

import { arrayFrom, isStorageDtype, type DType, type TypedArray } from '../../core/dtype.js';
import type { Backend, BackendMemory, Buf, KernelName, KernelTable } from '../../core/kernel_types.js';
import type { GpuKernels } from './common.js';
import { DeviceArray, MAX_ELEMENTS } from './device_array.js';
import { withFallback } from './fallback.js';
import { openAuto, openMode } from './modes.js';
import type { GpuMode, Runtime } from './runtime.js';
import { GPU_KERNELS } from './table.js';

export { AUTO_ORDER, GPU_MODES, probeModes } from './modes.js';
export type { GpuMode } from './runtime.js';
export { DeviceArray } from './device_array.js';

export interface GpuBackendOptions {
  /** Which gpu.js mode; `auto` (the default) takes the first that works of webgpu → headlessgl → webasm. */
  mode?: GpuMode | 'auto';
  /** Leave these keys out of the GPU table so they fall back to the CPU (for testing the fallback). */
  without?: readonly KernelName[];
  /** Called the first time each key falls back (default: console.warn). */
  onFallback?: (message: string) => void;
}

export interface GpuBackend extends Backend<DeviceArray> {
  /** The mode that actually runs. */
  readonly mode: GpuMode;
  /** Keys the GPU table lacks, which run on the CPU behind a host round trip. */
  readonly fallbacks: readonly KernelName[];
  /** Modes `auto` tried before this one, with why they did not open. */
  readonly skipped: readonly string[];
  readonly memory: BackendMemory<DeviceArray>;
  sync(): Promise<void>;
  /** Release gpu.js and every compiled kernel. */
  destroy(): void;
}

export async function createGpuBackend(opts: GpuBackendOptions = {}): Promise<GpuBackend> {
  const requested = opts.mode ?? 'auto';
  const { runtime: rt, skipped } = requested === 'auto' ? await openAuto() : { runtime: await openMode(requested), skipped: [] };
  const table: GpuKernels = { ...GPU_KERNELS(rt) };
  const bound = (opts.without ?? []).filter((k) => k === 'moe' || k === 'moeBackward');
  if (bound.length > 0) {
    rt.destroy();
    // Their aux 'plan' is data-sized and laid out differently on each backend (moe.ts).
    throw new Error(
      `gpu: '${bound.join("', '")}' cannot fall back to the CPU: the MoE plan that 'moe' hands to 'moeBackward' is backend-specific and sized by the routing`,
    );
  }
  for (const key of opts.without ?? []) delete table[key];
  const name = `gpu:${rt.mode}`;
  const warn = opts.onFallback ?? ((m: string) => console.warn(m));
  const { kernels, fallbacks } = withFallback(rt, table, (key) =>
    warn(
      `llmjp4 ${name}: no GPU kernel for '${key}'; it runs on the CPU (inputs copied to the host and the result back) — see fallbacks`,
    ),
  );
  const backend: GpuBackend = {
    name,
    mode: rt.mode,
    fallbacks,
    skipped,
    kernels: kernels as KernelTable<DeviceArray>,
    upload: (data, dtype) => rt.upload(toF32(data, dtype)),
    read: async (buf) => fromF32(await rt.read(buf.data), buf.dtype),
    length: (data) => data.length,
    memory: memoryOf(rt),
    sync: () => rt.sync(),
    destroy: () => rt.destroy(),
  };
  // Only the synchronous modes can answer dataSync(); webgpu reads through a Promise.
  if (!rt.async)
    (backend as { readSync?: (buf: Buf<DeviceArray>) => TypedArray }).readSync = (buf) =>
      fromF32(rt.readSync(buf.data), buf.dtype);
  return backend;
}

function memoryOf(rt: Runtime): BackendMemory<DeviceArray> {
  const m = rt.memory;
  return {
    dispose: (a) => m.dispose(a),
    beginScope: () => m.beginScope(),
    endScope: (keep) => m.endScope(keep),
    keep: (a) => m.keep(a),
    stats: () => m.stats(),
  };
}

/** Host data to float32, refusing what float32 cannot hold exactly. */
function toF32(data: TypedArray, dtype: DType): Float32Array {
  if (isStorageDtype(dtype)) {
    throw new Error(
      `gpu: ${dtype} tensors are not supported (weights kept as stored are read by the cpu backend's kernels); ` +
        `convert with .to('float32') before moving the tensor to the gpu backend`,
    );
  }
  if (dtype === 'float64') {
    throw new Error(
      'gpu: float64 tensors are not supported (gpu.js computes in float32); keep float64 work, such as gradient checks, on the cpu backend',
    );
  }
  if (data.length > MAX_ELEMENTS)
    throw new Error(`gpu: ${data.length} elements exceed the backend's limit of 2^24 = ${MAX_ELEMENTS} per tensor`);
  if (dtype === 'int32') {
    for (let i = 0; i < data.length; i++) {
      if (Math.abs(data[i]!) > MAX_ELEMENTS)
        throw new Error(
          `gpu: int32 value ${data[i]} is beyond ±2^24, which the float32 storage of the gpu backend cannot hold exactly`,
        );
    }
  }
  // A float32 array is taken over as it is (upload owns its argument); others are converted.
  return data instanceof Float32Array ? data : Float32Array.from(data);
}

function fromF32(v: Float32Array, dtype: DType): TypedArray {
  return dtype === 'float32' ? v : arrayFrom(dtype, v);
}
