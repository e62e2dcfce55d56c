// The blocked, threaded GEMM equals the plain-loop reference kernel on shapes chosen to hit every
// edge (sizes around the register tiles and the MC/NC/KC blocks, K = 0 and 1, broadcast batches,
// every transposition), with the dispatch thresholds forced so small shapes take each path — for the
// TypeScript kernels and for the WebAssembly SIMD ones (LLMJP4_CPU_KERNELS=ts|wasm, setCpuKernels).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { broadcastShapes, linear, randn, type Tensor } from '../../../core/index.js';
import {
  broadcastShapes as broadcastShapeArb,
  checkFused,
  checkOp,
  checkProperty,
  shape,
  tensorSpec,
} from '../../../core/testing/index.js';
import { KC, MC, NC } from '../../../kernels/cpu/gemm.js';
import { matmul, matmulReference, matmulTuning } from '../../../kernels/cpu/matmul.js';
import { getNumThreads, poolStats, setNumThreads } from '../../../kernels/cpu/threads/pool.js';
import { WASM_KC, WASM_KS, WASM_NC } from '../../../kernels/cpu/wasm/gemm.js';
import { getCpuKernels, setCpuKernels, wasmStats, type CpuKernels } from '../../../kernels/cpu/wasm/runtime.js';

const saved = { ...matmulTuning, threads: getNumThreads(), kernels: getCpuKernels() };
const restore = () => {
  Object.assign(matmulTuning, { blockedMin: saved.blockedMin, threadedMin: saved.threadedMin });
  setNumThreads(saved.threads);
  setCpuKernels(saved.kernels);
};

/** Sizes that straddle the tile and block edges of both paths (4×4 and 4×8 register tiles). */
const dim = fc.oneof(
  fc.integer({ min: 1, max: 9 }),
  fc.constantFrom(0, MC - 1, MC + 1, NC + 3, KC + 1, 2 * KC + 5, WASM_NC + 1, 2 * WASM_KC + 5, WASM_KS + 3),
);

interface MmCase {
  batch: number[][];
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  dtype: 'float32' | 'float64';
}

function mmCase(): fc.Arbitrary<MmCase> {
  return fc
    .record({
      batch: broadcastShapeArb(2, { maxRank: 2, maxDim: 3 }),
      M: dim,
      N: dim,
      K: dim,
      transA: fc.boolean(),
      transB: fc.boolean(),
      dtype: fc.constantFrom<'float32' | 'float64'>('float32', 'float64'),
    })
    .filter(({ M, N, K }) => M * N * K <= 600_000);
}

function compare({ batch: [ba, bb], M, N, K, transA, transB, dtype }: MmCase): void {
  const a = randn([...ba, ...(transA ? [K, M] : [M, K])], { dtype });
  const b = randn([...bb, ...(transB ? [N, K] : [K, N])], { dtype });
  const outBatch = broadcastShapes('test', ba, bb);
  const out = { shape: [...outBatch, M, N], dtype };
  const ins = [a.toBuf(), b.toBuf()] as Parameters<typeof matmul>[0];
  const fast = matmul(ins, { transA, transB }, out);
  const ref = matmulReference(ins, { transA, transB }, out);
  if ('aux' in fast || 'aux' in ref) throw new Error('unexpected aux');
  expect(fast.shape).toEqual(ref.shape);
  // The reference accumulates in float64; the TypeScript GEMM too, so its float32 results differ only by
  // the rounding of partial sums between K slabs; the WebAssembly GEMM accumulates in float32, whose
  // rounding errors grow like √K·ε·|terms| for random signs — well inside this bound (ε = 6e-8).
  const tol = dtype === 'float64' ? 1e-12 : 1e-5;
  const scale = Math.sqrt(Math.max(K, 1));
  (fast.data as Float64Array).forEach((v, i) => {
    const r = ref.data[i] as number;
    if (!(Math.abs(v - r) <= tol * scale * (1 + Math.abs(r)))) throw new Error(`element ${i}: fast ${v}, reference ${r}`);
  });
}

for (const kernels of ['ts', 'wasm'] satisfies CpuKernels[]) {
  describe(`blocked GEMM = reference matmul (${kernels} kernels)`, () => {
    beforeAll(() => setCpuKernels(kernels));
    afterAll(restore);
    // The WebAssembly path must take float32 products of 4+ rows, and the TypeScript path none.
    const wasmRan = (before: number) => expect(wasmStats().matmul > before).toBe(kernels === 'wasm');

    it('single-threaded blocked path (forced for every size)', () => {
      Object.assign(matmulTuning, { blockedMin: 0, threadedMin: Infinity });
      const before = wasmStats().matmul;
      checkProperty(mmCase(), compare, 60);
      // K past one staging block (K-contiguous operands are staged WASM_KS steps at a time), not a multiple of 4.
      compare({ batch: [[], []], M: 9, N: 13, K: WASM_KS + 3, transA: false, transB: true, dtype: 'float32' });
      compare({ batch: [[], []], M: 9, N: 13, K: WASM_KS + 3, transA: true, transB: false, dtype: 'float32' });
      wasmRan(before);
    });

    it('threaded path (forced for every size, 2 threads)', () => {
      Object.assign(matmulTuning, { blockedMin: 0, threadedMin: 0 });
      setNumThreads(2);
      const before = poolStats();
      const wasmBefore = wasmStats().matmul;
      checkProperty(mmCase(), compare, 40);
      compare({ batch: [[2], [1]], M: 9, N: 13, K: 7, transA: true, transB: true, dtype: 'float32' });
      const after = poolStats();
      expect(after.jobs).toBeGreaterThan(before.jobs);
      wasmRan(wasmBefore);
    });

    it('default dispatch on a large product uses every thread and matches', () => {
      Object.assign(matmulTuning, { blockedMin: saved.blockedMin, threadedMin: saved.threadedMin });
      setNumThreads(2);
      compare({ batch: [[], []], M: 300, N: 290, K: 310, transA: false, transB: true, dtype: 'float32' });
    });
  });
}

describe('fused linear = matmul + bias + activation + residual', () => {
  beforeAll(() => Object.assign(matmulTuning, { blockedMin: 0 }));
  afterAll(restore);

  const cases = fc
    .record({
      lead: shape({ maxRank: 2, maxDim: 3 }),
      inF: fc.integer({ min: 1, max: 7 }),
      outF: fc.integer({ min: 1, max: 7 }),
      bias: fc.boolean(),
      residual: fc.boolean(),
      activation: fc.constantFrom('none', 'silu', 'gelu', 'gelu_tanh' as const),
    })
    .chain(({ lead, inF, outF, bias, residual, activation }) =>
      fc
        .tuple(tensorSpec([...lead, inF]), tensorSpec([outF, inF]), tensorSpec([outF]), tensorSpec([...lead, outF]))
        .map(([x, w, b, r]) => ({
          inputs: [x, w, ...(bias ? [b] : []), ...(residual ? [r] : [])],
          attrs: { bias, residual, activation },
        })),
    );

  it('gradients = float64 finite differences (bias, residual, every activation)', () => {
    checkOp({
      name: 'linear',
      cases,
      fn: ([x, w, ...rest], { bias, residual, activation }) =>
        linear(x, w, bias ? rest[0] : undefined, { activation, residual: residual ? rest[bias ? 1 : 0] : undefined }),
    });
  });

  it.each(['ts', 'wasm'] satisfies CpuKernels[])('forward and every gradient, float32 and float64 (%s kernels)', (kernels) => {
    setCpuKernels(kernels);
    checkFused({
      name: `linear (${kernels})`,
      cases,
      fused: ([x, w, ...rest], { bias, residual, activation }) =>
        linear(x, w, bias ? rest[0] : undefined, { activation, residual: residual ? rest[bias ? 1 : 0] : undefined }),
      reference: ([x, w, ...rest], { bias, residual, activation }) => {
        let z: Tensor = x.matmul(w.mT);
        if (bias) z = z.add(rest[0]);
        z = activation === 'silu' ? z.silu() : activation === 'gelu' ? z.gelu() : activation === 'gelu_tanh' ? z.gelu('tanh') : z;
        return residual ? z.add(rest[bias ? 1 : 0]) : z;
      },
    });
  });
});
