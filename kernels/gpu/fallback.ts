// The one place a kernel the GPU table lacks runs anyway: its inputs are copied to the host, the CPU
// kernel runs, and its outputs are uploaded back — visibly: a warning the first time each key falls
// back, and `fallbacks` lists every such key (a test prints the list). In-place kernels (adamw)
// write their updated inputs back into the same device arrays.

import { arrayFrom, type DType, type TypedArray } from '../../core/dtype.js';
import type { Buf, Kernel, KernelName, KernelOutput, KernelTable, OutSpec } from '../../core/kernel_types.js';
import { sizeOf } from '../../core/shape.js';
import { cpu } from '../cpu/index.js';
import type { GpuBuf, GpuKernels } from './common.js';
import type { DeviceArray } from './device_array.js';
import type { Runtime } from './runtime.js';

type AnyKernel = Kernel<DeviceArray, unknown>;
type CpuKernel = Kernel<TypedArray, unknown>;

/** Kernels that update inputs in place, and which inputs (by position) they update. */
const IN_PLACE: Partial<Record<KernelName, readonly number[]>> = { adamw: [0, 2, 3] };

/** The complete table: each GPU kernel, and for every key it lacks, the CPU kernel behind a host round trip. */
export function withFallback(
  rt: Runtime,
  gpu: GpuKernels,
  warn: (key: KernelName) => void,
): { kernels: KernelTable<DeviceArray>; fallbacks: KernelName[] } {
  const kernels = {} as Record<KernelName, AnyKernel>;
  const fallbacks: KernelName[] = [];
  for (const key of Object.keys(cpu.kernels) as KernelName[]) {
    const own = gpu[key] as AnyKernel | undefined;
    if (own) {
      kernels[key] = own;
      continue;
    }
    fallbacks.push(key);
    let warned = false;
    const run = hostKernel(rt, key, cpu.kernels[key] as CpuKernel);
    kernels[key] = (ins, attrs, out) => {
      if (!warned) warn(key);
      warned = true;
      return run(ins, attrs, out);
    };
  }
  return { kernels: kernels as KernelTable<DeviceArray>, fallbacks };
}

/** A kernel that runs `cpuKernel` on host copies of its inputs. */
function hostKernel(rt: Runtime, key: KernelName, cpuKernel: CpuKernel): AnyKernel {
  const inPlace = IN_PLACE[key] ?? [];
  return (ins, attrs, out) => {
    // webgpu mode must allocate every output before the host work runs: the aux outputs are sized by
    // their op's shape rules, which apply passes in `out.aux` (core/op.ts).
    const spec: Record<string, OutSpec> = { out: { shape: out.shape, dtype: out.dtype }, ...out.aux };
    const names = Object.keys(spec);
    const fresh = names.map((n) => (n === 'out' && inPlace.length > 0 ? ins[0]!.data : rt.alloc(sizeOf(spec[n]!.shape))));
    const updated = inPlace.map((i) => ins[i]!.data);
    const targets = inPlace.length > 0 ? updated : fresh;
    rt.hostWork(
      targets,
      ins.map((b) => b.data),
      (values) => {
        const host: Buf<TypedArray>[] = ins.map((b, i) => ({
          data: fromF32(values[i]!, b.dtype),
          shape: b.shape,
          dtype: b.dtype,
        }));
        const r = cpuKernel(host, attrs, out) as Buf<TypedArray> | KernelOutput<TypedArray>;
        if (inPlace.length > 0) return inPlace.map((i) => Float32Array.from(host[i]!.data));
        const bufs: Record<string, Buf<TypedArray>> = 'aux' in r ? { out: r.out, ...r.aux } : { out: r };
        for (const n of Object.keys(bufs)) {
          if (!(n in spec))
            throw new Error(`gpu: the CPU fallback for '${key}' returned aux '${n}', which its op gave no shape for (out.aux)`);
        }
        return names.map((n) => Float32Array.from(bufs[n]!.data));
      },
    );
    const wrap = (i: number): GpuBuf => ({ data: fresh[i]!, shape: spec[names[i]!]!.shape, dtype: spec[names[i]!]!.dtype });
    if (names.length === 1) return wrap(0);
    const aux: Record<string, GpuBuf> = {};
    names.forEach((n, i) => {
      if (n !== 'out') aux[n] = wrap(i);
    });
    return { out: wrap(0), aux };
  };
}

/** Device values are float32; the CPU kernel wants its dtype's array. */
function fromF32(v: Float32Array, dtype: DType): TypedArray {
  if (dtype === 'float32') return v;
  return arrayFrom(dtype, v);
}
