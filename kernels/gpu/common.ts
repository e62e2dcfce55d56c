// What the GPU kernel files share: the buffer type, a kernel-source constructor, and source snippets
// for the two things gpu.js kernels get wrong by default — integer division of flat indices (done
// in float32, so it can land one off) and infinities (WGSL rejects infinite literals, so masked
// scores use a large finite negative instead).

import type { Buf, KernelTable, OutSpec } from '../../core/kernel_types.js';
import { sizeOf } from '../../core/shape.js';
import type { DeviceArray } from './device_array.js';
import type { Arg, KernelSource, Runtime } from './runtime.js';

export type GpuBuf = Buf<DeviceArray>;

/** The GPU table: any subset of the kernel keys (what is missing falls back to the CPU, see fallback.ts). */
export type GpuKernels = Partial<KernelTable<DeviceArray>>;

/** Each kernel file exports one of these: its kernels, bound to a runtime. */
export type KernelGroup = (rt: Runtime) => GpuKernels;

/** A stand-in for −∞ that every mode compiles: masked scores, the start of a running max. */
export const NEG = -3e38;

/** A kernel from its name and gpu.js source (see KernelSource). */
export function kernel(name: string, source: string): KernelSource {
  return { name, source };
}

/** Run `k` for an output described by `out` and wrap the handle as a buffer. */
export function launch(rt: Runtime, k: KernelSource, out: OutSpec, args: readonly Arg[]): GpuBuf {
  return { data: rt.run(k, sizeOf(out.shape), args), shape: out.shape, dtype: out.dtype };
}

/**
 * Source that declares `q` = ⌊n / d⌋ and `r` = n − q·d for integers 0 ≤ n < 2^24 held in float32.
 * The float quotient can be one off near a multiple of d (division is not exactly rounded on every
 * GPU); n and q·d are exact, so checking the remainder's range corrects it.
 */
export function divmod(q: string, r: string, n: string, d: string): string {
  const [N, D] = [`(${n})`, `(${d})`];
  return `let ${q} = Math.floor(${N} / ${D});
    let ${r} = ${N} - ${q} * ${D};
    if (${r} < 0) { ${q} = ${q} - 1; ${r} = ${r} + ${D}; }
    if (${r} >= ${D}) { ${q} = ${q} + 1; ${r} = ${r} - ${D}; }`;
}

/** A small host array of numbers for a kernel argument (shapes, strides, per-batch offsets). */
export function hostArray(values: readonly number[]): Float32Array {
  // gpu.js cannot bind an empty array; such an argument is never read.
  return Float32Array.from(values.length > 0 ? values : [0]);
}
