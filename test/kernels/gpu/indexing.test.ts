// GPU = CPU for the indexing kernels in every gpu.js mode that works here: gather/scatterAdd (repeated
// indices accumulate), indexSelect/indexAdd, embedding and cat/stack, forward and gradients; and
// out-of-range indices give NaN (kernels cannot throw) where the CPU backend raises an error.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { cat, embedding, stack, tensor, zeros } from '../../../core/index.js';
import { axis, shape, tensorSpec } from '../../../core/testing/index.js';
import { forEachMode, parity, TOL, itSomeModeWorks } from './harness.js';

const int = <T extends object>(s: T) => ({ ...s, kind: 'int32' as const });

/** x, an axis, an index fitting x (same rank, values in range) and a src shaped like the index. */
const gatherCases = shape({ minRank: 1, maxRank: 3 }).chain((s) =>
  axis(s.length).chain((a) => {
    const ax = a < 0 ? a + s.length : a;
    const ishape = fc.tuple(...s.map((d, i) => fc.integer({ min: i === ax ? 0 : 1, max: i === ax ? 4 : d })));
    return ishape.chain((is) =>
      fc
        .tuple(tensorSpec(s), tensorSpec(is, { integer: true, min: 0, max: s[ax]! - 1 }), tensorSpec(is))
        .map(([x, index, src]) => ({ inputs: [x, int(index), src], attrs: { a } })),
    );
  }),
);

/** x, an axis, a 1-D list of rows along it (repeats allowed) and a src for indexAdd. */
const selectCases = shape({ minRank: 1, maxRank: 3 }).chain((s) =>
  fc.tuple(axis(s.length), fc.integer({ min: 0, max: 5 })).chain(([a, k]) => {
    const ax = a < 0 ? a + s.length : a;
    return fc
      .tuple(
        tensorSpec(s),
        tensorSpec([k], { integer: true, min: 0, max: s[ax]! - 1 }),
        tensorSpec(s.map((d, i) => (i === ax ? k : d))),
      )
      .map(([x, index, src]) => ({ inputs: [x, int(index), src], attrs: { a } }));
  }),
);

const catCases = fc.tuple(shape({ minRank: 1, maxRank: 3 }), fc.integer({ min: 1, max: 3 })).chain(([s, n]) =>
  axis(s.length).chain((a) => {
    const ax = a < 0 ? a + s.length : a;
    const part = fc.integer({ min: 0, max: 3 }).chain((w) => tensorSpec(s.map((d, i) => (i === ax ? w : d))));
    return fc
      .tuple(fc.array(part, { minLength: n, maxLength: n }), tensorSpec(s))
      .map(([parts, t]) => ({ inputs: [...parts, t], attrs: { a, n } }));
  }),
);

forEachMode((gpu) => {
  it('gather and scatterAdd = CPU, with gradients', async () => {
    await parity({
      name: 'gather/scatterAdd',
      backend: gpu(),
      cases: gatherCases,
      tol: TOL.reduction,
      grad: true,
      labels: ['gather', 'scatterAdd'],
      fn: ([x, index, src], { a }) => [x!.gather(a, index!), x!.scatterAdd(a, index!, src!)],
    });
  });

  it('indexSelect, indexAdd and embedding = CPU, with gradients', async () => {
    await parity({
      name: 'indexSelect/indexAdd',
      backend: gpu(),
      cases: selectCases,
      tol: TOL.reduction,
      grad: true,
      labels: ['indexSelect', 'indexAdd', 'embedding'],
      fn: ([x, index, src], { a }) => [
        x!.indexSelect(a, index!),
        x!.indexAdd(a, index!, src!),
        embedding(index!.reshape(1, -1), x!.transpose(0, a).contiguous().reshape(x!.shape.at(a)!, -1)),
      ],
    });
  });

  it('cat and stack = CPU exactly, with gradients', async () => {
    await parity({
      name: 'cat',
      backend: gpu(),
      cases: catCases,
      tol: TOL.exact,
      grad: true,
      labels: ['cat', 'stack'],
      fn: (xs, { a, n }) => [cat(xs.slice(0, n), a), stack([xs[n]!, xs[n]!.neg()], a)],
    });
  });

  it('an out-of-range index gives NaN instead of reading outside the array', async () => {
    const x = tensor([[1, 2, 3]], { backend: gpu() });
    const bad = tensor([[0, 3]], { dtype: 'int32', backend: gpu() });
    expect(Array.from(await x.gather(1, bad).data())).toEqual([1, NaN]);
    expect(Array.from(await x.indexSelect(1, tensor([5], { dtype: 'int32', backend: gpu() })).data())).toEqual([NaN]);
    expect(
      Array.from(
        await zeros([2], { backend: gpu() })
          .indexAdd(0, tensor([2], { dtype: 'int32', backend: gpu() }), tensor([1], { backend: gpu() }))
          .data(),
      ),
    ).toEqual([NaN, NaN]);
  });
});

itSomeModeWorks();
