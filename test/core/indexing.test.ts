// Integer indexing: gather/scatterAdd, indexSelect/indexAdd, embedding and oneHot.
// Forward against plain index loops; gradients (each the adjoint scatter/gather) by finite differences.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { embedding, oneHot, tensor, zeros } from '../../core/index.js';
import { axis, checkOp, ndarray, shape, tensorSpec, type NDArray } from '../../core/testing/index.js';

const { multiIndex, at, flatIndex } = ndarray;

/** x of shape S, an axis, and an index tensor of the same rank fitting x (values in range). */
const gatherCases = shape({ minRank: 1, maxRank: 3 }).chain((s) =>
  axis(s.length).chain((a) => {
    const ax = a < 0 ? a + s.length : a;
    const ishape = fc.tuple(...s.map((d, i) => fc.integer({ min: i === ax ? 0 : 1, max: i === ax ? 4 : d })));
    return ishape.chain((is) =>
      fc
        .tuple(tensorSpec(s), tensorSpec(is, { integer: true, min: 0, max: s[ax] - 1 }), tensorSpec(is))
        .map(([x, index, src]) => ({ inputs: [x, { ...index, kind: 'int32' as const }, src], attrs: { a } })),
    );
  }),
);

function refGather(x: NDArray, index: NDArray, a: number): NDArray {
  const ax = a < 0 ? a + x.shape.length : a;
  return ndarray.map(index, (v, idx) =>
    at(
      x,
      idx.map((c, i) => (i === ax ? v : c)),
    ),
  );
}

function refScatterAdd(x: NDArray, index: NDArray, src: NDArray, a: number): NDArray {
  const ax = a < 0 ? a + x.shape.length : a;
  const out = [...x.data];
  index.data.forEach((v, p) => {
    const idx = multiIndex(index.shape, p).map((c, i) => (i === ax ? v : c));
    out[flatIndex(x.shape, idx)] += src.data[p];
  });
  return { shape: x.shape, data: out };
}

/** x, an axis, and a 1-D list of rows along it (repeats allowed), plus a src for indexAdd. */
const selectCases = shape({ minRank: 1, maxRank: 3 }).chain((s) =>
  fc.tuple(axis(s.length), fc.integer({ min: 0, max: 5 })).chain(([a, k]) => {
    const ax = a < 0 ? a + s.length : a;
    const srcShape = s.map((d, i) => (i === ax ? k : d));
    return fc
      .tuple(tensorSpec(s), tensorSpec([k], { integer: true, min: 0, max: s[ax] - 1 }), tensorSpec(srcShape))
      .map(([x, index, src]) => ({ inputs: [x, { ...index, kind: 'int32' as const }, src], attrs: { a } }));
  }),
);

function refIndexSelect(x: NDArray, index: NDArray, a: number): NDArray {
  const ax = a < 0 ? a + x.shape.length : a;
  const shape = x.shape.map((d, i) => (i === ax ? index.data.length : d));
  const n = shape.reduce((p, q) => p * q, 1);
  const data = Array.from({ length: n }, (_, p) =>
    at(
      x,
      multiIndex(shape, p).map((c, i) => (i === ax ? index.data[c] : c)),
    ),
  );
  return { shape, data };
}

describe('gather / scatterAdd', () => {
  it('gather', () => {
    checkOp({
      name: 'gather',
      cases: gatherCases,
      fn: ([x, index], { a }) => x.gather(a, index),
      reference: ([x, index], { a }) => refGather(x, index, a),
    });
  });

  it('scatterAdd (repeated indices accumulate)', () => {
    checkOp({
      name: 'scatterAdd',
      cases: gatherCases,
      fn: ([x, index, src], { a }) => x.scatterAdd(a, index, src),
      reference: ([x, index, src], { a }) => refScatterAdd(x, index, src, a),
    });
  });

  it('out-of-range and wrongly typed indices are errors naming the op', () => {
    const x = zeros([2, 3]);
    expect(() => x.gather(1, tensor([[0, 3]], { dtype: 'int32' }))).toThrow(
      'gather: index 3 is out of range for an axis of size 3',
    );
    expect(() => x.gather(1, tensor([[0, -1]], { dtype: 'int32' }))).toThrow('gather: index -1 is out of range');
    expect(() => x.gather(1, tensor([[0, 1]]))).toThrow('gather: index must be int32, got float32');
    expect(() => x.gather(1, tensor([0, 1], { dtype: 'int32' }))).toThrow('gather: index [2] does not fit x [2,3] along axis 1');
  });
});

describe('indexSelect / indexAdd / embedding', () => {
  it('indexSelect', () => {
    checkOp({
      name: 'indexSelect',
      cases: selectCases,
      fn: ([x, index], { a }) => x.indexSelect(a, index),
      reference: ([x, index], { a }) => refIndexSelect(x, index, a),
    });
  });

  it('indexAdd', () => {
    checkOp({
      name: 'indexAdd',
      cases: selectCases,
      fn: ([x, index, src], { a }) => x.indexAdd(a, index, src),
      reference: ([x, index, src], { a }) => {
        const ax = a < 0 ? a + x.shape.length : a;
        const out = [...x.data];
        src.data.forEach((v, p) => {
          const idx = multiIndex(src.shape, p);
          idx[ax] = index.data[idx[ax]];
          out[flatIndex(x.shape, idx)] += v;
        });
        return { shape: x.shape, data: out };
      },
    });
  });

  it('embedding: rows of [V, C] for ids of any shape; the weight gradient sums repeated ids', () => {
    const cases = fc
      .tuple(shape({ maxRank: 2 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 3 }))
      .chain(([ids, V, C]) =>
        fc
          .tuple(tensorSpec(ids, { integer: true, min: 0, max: V - 1 }), tensorSpec([V, C]))
          .map(([i, w]) => ({ inputs: [{ ...i, kind: 'int32' as const }, w], attrs: {} })),
      );
    checkOp({
      name: 'embedding',
      cases,
      fn: ([ids, w]) => embedding(ids, w),
      reference: ([ids, w]) => {
        const C = w.shape[1];
        return { shape: [...ids.shape, C], data: ids.data.flatMap((v) => w.data.slice(v * C, (v + 1) * C)) };
      },
    });
  });

  it('oneHot', () => {
    const y = oneHot(
      tensor(
        [
          [2, 0],
          [1, 1],
        ],
        { dtype: 'int32' },
      ),
      3,
    );
    expect(y.dtype).toBe('int32');
    expect(y.toArraySync()).toEqual([
      [
        [0, 0, 1],
        [1, 0, 0],
      ],
      [
        [0, 1, 0],
        [0, 1, 0],
      ],
    ]);
    expect(oneHot(tensor([1], { dtype: 'int32' }), 2, { dtype: 'float32' }).dtype).toBe('float32');
    expect(() => oneHot(tensor([3], { dtype: 'int32' }), 3)).toThrow(/index 3 is out of range for an axis of size 3/);
  });
});
