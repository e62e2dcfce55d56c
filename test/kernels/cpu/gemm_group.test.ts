// The grouped GEMM (one parallel job for many products, as a MoE layer's experts): every product equals
// the plain loop, whatever the mix of row counts — including fewer rows than the register tile, which
// sends the whole group down the one-by-one path — with threads on and shared memory, as in a real layer.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { getNumThreads, setNumThreads, type Buf, type TypedArray } from '../../../core/index.js';
import { fcParams } from '../../../core/testing/index.js';
import { gemmGroup } from '../../../kernels/cpu/gemm_group.js';
import { matmulReference } from '../../../kernels/cpu/matmul.js';
import { allocShared } from '../../../kernels/cpu/shared.js';
import { poolStats } from '../../../kernels/cpu/threads/pool.js';
import { getCpuKernels, setCpuKernels, simdSupported } from '../../../kernels/cpu/wasm/runtime.js';

const saved = { threads: getNumThreads(), kernels: getCpuKernels() };
afterAll(() => {
  setNumThreads(saved.threads);
  setCpuKernels(saved.kernels);
});

const filled = (n: number, seed: number) => {
  const a = allocShared('float32', n);
  for (let i = 0; i < n; i++) a[i] = Math.fround(Math.sin(seed * 7.1 + i * 0.37));
  return a;
};

describe('gemmGroup', () => {
  for (const kernels of simdSupported ? (['wasm', 'ts'] as const) : (['ts'] as const)) {
    it(`${kernels}: each product equals the plain loop (threads on, shared memory)`, () => {
      setCpuKernels(kernels);
      setNumThreads(2);
      let grouped = 0;
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 1, max: 70 }), { minLength: 1, maxLength: 6 }),
          fc.integer({ min: 1, max: 40 }),
          fc.integer({ min: 1, max: 50 }),
          (ms, N, K) => {
            const items = ms.map((M, e) => ({
              a: { data: filled(M * K, e), shape: [M, K], dtype: 'float32' as const },
              b: { data: filled(N * K, 100 + e), shape: [N, K], dtype: 'float32' as const },
              out: { shape: [M, N], dtype: 'float32' as const },
              into: allocShared('float32', M * N),
            }));
            const before = poolStats().jobs;
            gemmGroup(items);
            if (poolStats().jobs === before + 1) grouped++;
            for (const it of items) {
              const want = (matmulReference([it.a, it.b], { transA: false, transB: true }, it.out) as Buf<TypedArray>).data;
              it.into.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(1e-5 + 1e-5 * Math.abs(want[i]!)));
            }
          },
        ),
        fcParams(60),
      );
      // With the WebAssembly kernels, groups whose products all have ≥ 4 rows ran as one job.
      if (kernels === 'wasm') expect(grouped).toBeGreaterThan(0);
    });
  }
});
