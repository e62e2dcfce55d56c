// Flash attention = the materialised reference (forward and dq, dk, dv) on shapes that span several
// query/key blocks, with GQA, masks, causal offsets, one thread or many; finite-difference gradients;
// and the laws attention must satisfy: causality, KV-cache decode = full forward, GQA head mapping.
// Float32 runs both the WebAssembly SIMD kernels (the default) and the TypeScript ones (forced).
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { attention, attentionOp, randn, tensor, type Tensor } from '../../core/index.js';
import { checkFused, checkOp, checkProperty, tensorSpec } from '../../core/testing/index.js';
import { attentionTuning } from '../../kernels/cpu/attention.js';
import { getNumThreads, setNumThreads } from '../../kernels/cpu/threads/pool.js';
import { wasmAttentionTuning } from '../../kernels/cpu/wasm/attention_layout.js';
import { getCpuKernels, setCpuKernels, wasmStats, type CpuKernels } from '../../kernels/cpu/wasm/runtime.js';

const saved = {
  threadedMin: attentionTuning.threadedMin,
  threads: getNumThreads(),
  kernels: getCpuKernels(),
  chunkBytes: wasmAttentionTuning.chunkBytes,
};
afterAll(() => {
  attentionTuning.threadedMin = saved.threadedMin;
  wasmAttentionTuning.chunkBytes = saved.chunkBytes;
  setNumThreads(saved.threads);
  setCpuKernels(saved.kernels);
});

interface Dims {
  B: number;
  KVH: number;
  rep: number;
  Tq: number;
  Tk: number;
  HS: number;
  causal: boolean;
  offset: number;
  mask: number[] | null;
}

function dimsArb(maxT: number): fc.Arbitrary<Dims> {
  return fc
    .record({
      B: fc.integer({ min: 1, max: 2 }),
      KVH: fc.integer({ min: 1, max: 2 }),
      rep: fc.integer({ min: 1, max: 3 }),
      Tq: fc.integer({ min: 1, max: maxT }),
      extra: fc.integer({ min: 0, max: maxT }),
      HS: fc.constantFrom(1, 2, 3, 4, 5, 8, 16),
      causal: fc.boolean(),
      // Which of [B, NH, Tq] the mask keeps (else broadcast), or no mask.
      mask: fc.option(fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()), { nil: null }),
    })
    .map(({ extra, mask, ...d }) => {
      // With the KV cache, keys = past (offset of them) + the current queries.
      const Tk = d.causal ? d.Tq + extra : Math.max(1, extra);
      const offset = d.causal ? extra : 0;
      const NH = d.KVH * d.rep;
      return { ...d, Tk, offset, mask: mask ? [mask[0] ? d.B : 1, mask[1] ? NH : 1, mask[2] ? d.Tq : 1, Tk] : null };
    });
}

const cases = (maxT: number) =>
  dimsArb(maxT).chain((d) =>
    fc
      .tuple(
        tensorSpec([d.B, d.KVH * d.rep, d.Tq, d.HS]),
        tensorSpec([d.B, d.KVH, d.Tk, d.HS]),
        tensorSpec([d.B, d.KVH, d.Tk, d.HS]),
        tensorSpec(d.mask ?? [1]),
      )
      .map(([q, k, v, m]) => ({ inputs: d.mask ? [q, k, v, { ...m, kind: 'const' as const }] : [q, k, v], attrs: d })),
  );

const fused = ([q, k, v, mask]: Tensor[], d: Dims) => attention(q, k, v, { causal: d.causal, offset: d.offset, mask });
const reference = ([q, k, v, mask]: Tensor[], d: Dims) =>
  attentionOp(mask !== undefined).reference!(
    { q, k, v, mask },
    { causal: d.causal, offset: d.offset, scale: q.shape[3] ** -0.5, hasMask: mask !== undefined },
  );

/**
 * Float32 tolerance for flash attention against the materialised reference: both sum up to ~160 keys in
 * float32 (in different orders, the WebAssembly path with its own vectorised exp), and dq = Σ p·(dp − D)·k
 * subtracts nearly equal terms, so a gradient entry of ~7e-3 can differ by ~1e-5 — just past the default
 * atol 1e-5 + rtol 1e-4 (seen once in ~300 runs). A kernel bug is off by orders of magnitude more.
 */
const FLASH_TOL = { float32: { atol: 3e-5, rtol: 2e-4 } };

describe('attention: flash = materialised reference', () => {
  for (const kernels of ['wasm', 'ts'] satisfies CpuKernels[]) {
    it(`one thread: forward and dq, dk, dv across several blocks (Tq, Tk up to 80; ${kernels} kernels)`, () => {
      setCpuKernels(kernels);
      setNumThreads(1);
      const before = wasmStats();
      checkFused({ name: `attention (${kernels})`, cases: cases(80), fused, reference, numRuns: 40, tol: FLASH_TOL });
      // Float32 cases took the WebAssembly path, forward and backward, exactly when it was selected.
      const after = wasmStats();
      expect([after.attention > before.attention, after.attentionBackward > before.attentionBackward]).toEqual([
        kernels === 'wasm',
        kernels === 'wasm',
      ]);
    });

    it(`threads forced on for every size (${kernels} kernels)`, () => {
      setCpuKernels(kernels);
      setNumThreads(2);
      attentionTuning.threadedMin = 0;
      checkFused({ name: `attention (threaded, ${kernels})`, cases: cases(40), fused, reference, numRuns: 25, tol: FLASH_TOL });
      attentionTuning.threadedMin = saved.threadedMin;
    });
  }

  it('WebAssembly kernels packing one kv group per job (threads on)', () => {
    setCpuKernels('wasm');
    setNumThreads(2);
    attentionTuning.threadedMin = 0;
    wasmAttentionTuning.chunkBytes = 1;
    checkFused({ name: 'attention (wasm, one group per job)', cases: cases(40), fused, reference, numRuns: 15, tol: FLASH_TOL });
    wasmAttentionTuning.chunkBytes = saved.chunkBytes;
    attentionTuning.threadedMin = saved.threadedMin;
    setCpuKernels(saved.kernels);
  });

  it('gradients = finite differences', () => {
    checkOp({ name: 'attention', cases: cases(6), fn: fused, numRuns: 40 });
  });
});

describe('attention: laws', () => {
  it('causality: changing a later key or value leaves earlier outputs unchanged', () => {
    checkProperty(fc.record({ T: fc.integer({ min: 2, max: 70 }), t: fc.nat(), seed: fc.nat(1000) }), ({ T, t, seed }) => {
      const cut = 1 + (t % (T - 1));
      const q = randn([1, 2, T, 8], { dtype: 'float64' });
      const k = randn([1, 1, T, 8], { dtype: 'float64' });
      const v = randn([1, 1, T, 8], { dtype: 'float64' });
      const noise = randn([1, 1, T, 8], { dtype: 'float64' }).mul(seed % 5);
      const later = tensor(
        Array.from({ length: T }, (_, i) => (i >= cut ? 1 : 0)),
        { dtype: 'float64' },
      ).reshape(1, 1, T, 1);
      const a = attention(q, k, v, { causal: true }).narrow(2, 0, cut);
      const b = attention(q, k.add(noise.mul(later)), v.add(noise.mul(later)), { causal: true }).narrow(2, 0, cut);
      expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    });
  });

  it('KV-cache decode: one query at offset T−1 over all keys = the last row of the full causal pass', () => {
    checkProperty(fc.record({ T: fc.integer({ min: 1, max: 90 }), rep: fc.integer({ min: 1, max: 4 }) }), ({ T, rep }) => {
      const q = randn([2, 2 * rep, T, 16]);
      const k = randn([2, 2, T, 16]);
      const v = randn([2, 2, T, 16]);
      const full = attention(q, k, v, { causal: true }).narrow(2, T - 1, 1);
      const step = attention(q.narrow(2, T - 1, 1), k, v, { causal: true, offset: T - 1 });
      const [a, b] = [full.dataSync(), step.dataSync()];
      a.forEach((x, i) => expect(Math.abs(x - b[i])).toBeLessThan(1e-5));
    });
  });

  it('GQA: query head j reads kv head ⌊j / (NH/KVH)⌋ (repeat_kv), not j mod KVH', () => {
    const q = randn([1, 4, 3, 4], { dtype: 'float64' });
    const k = randn([1, 2, 3, 4], { dtype: 'float64' });
    const v = randn([1, 2, 3, 4], { dtype: 'float64' });
    const out = attention(q, k, v);
    for (let j = 0; j < 4; j++) {
      const kv = Math.floor(j / 2);
      const single = attention(q.narrow(1, j, 1), k.narrow(1, kv, 1), v.narrow(1, kv, 1));
      expect(Array.from(out.narrow(1, j, 1).contiguous().dataSync())).toEqual(Array.from(single.dataSync()));
    }
  });

  it('a large negative mask drops keys exactly like leaving them out', () => {
    const q = randn([1, 1, 2, 4], { dtype: 'float64' });
    const k = randn([1, 1, 5, 4], { dtype: 'float64' });
    const v = randn([1, 1, 5, 4], { dtype: 'float64' });
    const pad = tensor([0, 0, 0, -1e30, -1e30], { dtype: 'float64' });
    const masked = attention(q, k, v, { mask: pad }).dataSync();
    const cut = attention(q, k.narrow(2, 0, 3), v.narrow(2, 0, 3)).dataSync();
    masked.forEach((x, i) => expect(x).toBeCloseTo(cut[i], 12));
  });

  it('bad shapes are errors naming what was given', () => {
    expect(() => attention(randn([1, 3, 2, 4]), randn([1, 2, 2, 4]), randn([1, 2, 2, 4]))).toThrow(
      /attention: expected q \[B, NH, Tq, HS\].*got q \[1,3,2,4\]/,
    );
    expect(() => attention(randn([1, 2, 2, 4]), randn([1, 2, 3, 4]), randn([1, 2, 3, 4]), { mask: randn([3, 3]) })).toThrow(
      'attention: mask [1,1,3,3] does not broadcast to [B, NH, Tq, Tk] = [1,2,2,3]',
    );
  });
});
