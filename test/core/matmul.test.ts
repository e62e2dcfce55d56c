// matmul with batch broadcasting (2-D to 4-D, and 1-D vectors) and transposed operands without copies:
// forward against a plain triple loop, gradients by finite differences, the law (AB)ᵀ = BᵀAᵀ, and errors.
// (linear, the fused x·wᵀ + b, is in linear.test.ts.)
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matmul, randn, tensor, zeros } from '../../core/index.js';
import { broadcastShapes, checkOp, checkProperty, ndarray, tensorSpec, type NDArray } from '../../core/testing/index.js';

const { multiIndex, at } = ndarray;

/** Reference batched matmul on plain arrays, with its own right-aligned batch broadcasting. */
function refMatmul(a: NDArray, b: NDArray): NDArray {
  const A = a.shape.length === 1 ? { shape: [1, a.shape[0]], data: a.data } : a;
  const B = b.shape.length === 1 ? { shape: [b.shape[0], 1], data: b.data } : b;
  const [M, K] = A.shape.slice(-2);
  const N = B.shape[B.shape.length - 1];
  const ba = A.shape.slice(0, -2);
  const bb = B.shape.slice(0, -2);
  const rank = Math.max(ba.length, bb.length);
  const batch = Array.from({ length: rank }, (_, i) => {
    const da = ba[i - (rank - ba.length)] ?? 1;
    const db = bb[i - (rank - bb.length)] ?? 1;
    return Math.max(da, db);
  });
  const outShape = [...batch, M, N];
  const n = outShape.reduce((x, y) => x * y, 1);
  const data: number[] = [];
  for (let p = 0; p < n; p++) {
    const idx = multiIndex(outShape, p);
    const bi = idx.slice(0, rank);
    const pick = (bs: number[]) => bs.map((d, i) => (d === 1 ? 0 : bi[i + rank - bs.length]));
    let s = 0;
    for (let k = 0; k < K; k++) s += at(A, [...pick(ba), idx[rank], k]) * at(B, [...pick(bb), k, idx[rank + 1]]);
    data.push(s);
  }
  const shape = [...batch, ...(a.shape.length === 1 ? [] : [M]), ...(b.shape.length === 1 ? [] : [N])];
  return { shape, data };
}

const dims = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }));

describe('matmul', () => {
  it('batched with broadcasting (2-D to 4-D), any operand layout', () => {
    const cases = fc
      .tuple(broadcastShapes(2, { maxRank: 2, maxDim: 3 }), dims)
      .chain(([[ba, bb], [M, K, N]]) =>
        fc.tuple(tensorSpec([...ba, M, K]), tensorSpec([...bb, K, N])).map(([a, b]) => ({ inputs: [a, b], attrs: {} })),
      );
    checkOp({ name: 'matmul', cases, fn: ([a, b]) => a.matmul(b), reference: ([a, b]) => refMatmul(a, b), numRuns: 60 });
  });

  it('1-D operands are vectors (vector·matrix, matrix·vector, dot)', () => {
    const cases = dims.chain(([M, K]) =>
      fc.tuple(tensorSpec([K]), tensorSpec([K, M]), tensorSpec([M, K]), tensorSpec([K])).map((inputs) => ({ inputs, attrs: {} })),
    );
    checkOp({
      name: 'matmul(1-D)',
      cases,
      fn: ([v, m, m2, w]) => matmul(v, m).sum().add(matmul(m2, v).sum()).add(matmul(v, w)),
      reference: ([v, m, m2, w]) => {
        const s = (x: NDArray) => x.data.reduce((p, q) => p + q, 0);
        return { shape: [], data: [s(refMatmul(v, m)) + s(refMatmul(m2, v)) + s(refMatmul(v, w))] };
      },
    });
  });

  it('transposed operands run on the original storage (no copy of wᵀ) and give the same numbers', () => {
    const w = randn([5, 3], { dtype: 'float64' });
    const x = randn([4, 3], { dtype: 'float64' });
    const viaView = x.matmul(w.mT);
    const viaCopy = x.matmul(w.mT.contiguous());
    expect(viaView.toArraySync()).toEqual(viaCopy.toArraySync());
    expect(w.mT.isContiguous()).toBe(false);
    // The recorded graph input is the contiguous original, flagged as transposed.
    const wt = w.detach().requiresGrad_();
    const y = x.matmul(wt.mT);
    expect(y.node!.attrs).toEqual({ transA: false, transB: true });
    expect(y.node!.inputs!.b.storage).toBe(wt.storage);
  });

  it('(AB)ᵀ = BᵀAᵀ', () => {
    checkProperty(
      fc
        .tuple(broadcastShapes(1, { maxRank: 2 }), dims)
        .chain(([[batch], [M, K, N]]) => fc.tuple(tensorSpec([...batch, M, K]), tensorSpec([...batch, K, N]))),
      ([a, b]) => {
        const A = tensor(Float64Array.from(a.values), { shape: a.shape });
        const B = tensor(Float64Array.from(b.values), { shape: b.shape });
        const lhs = A.matmul(B).mT.contiguous().dataSync();
        const rhs = B.mT.matmul(A.mT).dataSync();
        lhs.forEach((v, i) => expect(Math.abs(v - rhs[i])).toBeLessThan(1e-12));
      },
    );
  });

  it('shape and dtype errors', () => {
    expect(() => zeros([2, 3, 4]).matmul(zeros([5, 6]))).toThrow('matmul: inner dimensions differ: a is [6,4], b is [5,6]');
    expect(() => zeros([2, 3, 4]).matmul(zeros([3, 4, 5]))).toThrow('matmul: shapes [2] and [3] cannot be broadcast together');
    expect(() => zeros([2, 2]).matmul(zeros([2, 2], { dtype: 'float64' }))).toThrow(
      /matmul: expects two float32 or two float64 tensors/,
    );
    expect(() => zeros([]).matmul(zeros([2]))).toThrow('matmul: both operands need at least 1 dimension, got [] and [2]');
  });
});
