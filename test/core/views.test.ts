// Movement ops are views: same storage, new shape/strides/offset. Forward against index arithmetic on
// a plain array; gradients through every view by finite differences; the reshape round-trip law.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arange, flatten, narrow, reshape, tensor, zeros } from '../../core/index.js';
import {
  axis,
  broadcastableTo,
  checkOp,
  checkProperty,
  ndarray,
  shape,
  tensorSpec,
  type NDArray,
} from '../../core/testing/index.js';

const { multiIndex, at, permute: ndPermute } = ndarray;

/** Group a list of dims into a shape by cutting it at random points (products of neighbours). */
function grouped(dims: number[]) {
  return fc.array(fc.boolean(), { minLength: dims.length, maxLength: dims.length }).map((cuts) => {
    const out: number[] = [];
    dims.forEach((d, i) => (i === 0 || cuts[i] ? out.push(d) : (out[out.length - 1] *= d)));
    return out;
  });
}

/** A source shape and a different target shape with the same number of elements. */
const reshapePair = fc
  .array(fc.integer({ min: 1, max: 4 }), { maxLength: 5 })
  .chain((dims) => fc.tuple(grouped(dims), fc.shuffledSubarray(dims, { minLength: dims.length }).chain(grouped)));

function build(s: number[], f: (idx: number[]) => number): NDArray {
  const n = s.reduce((a, b) => a * b, 1);
  return { shape: s, data: Array.from({ length: n }, (_, p) => f(multiIndex(s, p))) };
}

describe('views: forward by index arithmetic, gradients by finite differences', () => {
  it('reshape (with an inferred -1)', () => {
    checkOp({
      name: 'reshape',
      cases: reshapePair.chain(([from, to]) =>
        fc.tuple(tensorSpec(from), fc.integer({ min: -1, max: to.length - 1 })).map(([x, minus]) => ({
          inputs: [x],
          attrs: { to, target: to.map((d, i) => (i === minus ? -1 : d)) },
        })),
      ),
      fn: ([x], { target }) => x.reshape(target),
      reference: ([x], { to }) => ({ shape: to, data: x.data }),
    });
  });

  it('permute', () => {
    const cases = shape({ maxRank: 4 }).chain((s) =>
      fc
        .tuple(
          tensorSpec(s),
          fc.shuffledSubarray(
            s.map((_, i) => i),
            { minLength: s.length },
          ),
        )
        .map(([x, dims]) => ({ inputs: [x], attrs: { dims } })),
    );
    checkOp({
      name: 'permute',
      cases,
      fn: ([x], { dims }) => x.permute(...dims),
      reference: ([x], { dims }) => ndPermute(x, dims),
    });
  });

  it('transpose(a, b) with negative axes', () => {
    const cases = shape({ minRank: 1, maxRank: 4 }).chain((s) =>
      fc.tuple(tensorSpec(s), axis(s.length), axis(s.length)).map(([x, a, b]) => ({ inputs: [x], attrs: { a, b } })),
    );
    checkOp({
      name: 'transpose',
      cases,
      fn: ([x], { a, b }) => x.transpose(a, b),
      reference: ([x], { a, b }) => {
        const dims = x.shape.map((_, i) => i);
        const [i, j] = [a < 0 ? a + dims.length : a, b < 0 ? b + dims.length : b];
        [dims[i], dims[j]] = [dims[j], dims[i]];
        return ndPermute(x, dims);
      },
    });
  });

  it('expand (broadcast view; backward sums over the broadcast axes)', () => {
    const cases = shape({ maxRank: 4 }).chain((target) =>
      broadcastableTo(target).chain((s) => tensorSpec(s).map((x) => ({ inputs: [x], attrs: { target } }))),
    );
    checkOp({
      name: 'expand',
      cases,
      fn: ([x], { target }) => x.expand(...target),
      reference: ([x], { target }) => ndarray.zip([x, build(target, () => 0)], (v) => v),
    });
  });

  it('narrow and slice (an offset into storage)', () => {
    const cases = shape({ minRank: 1, maxRank: 3, minDim: 0 }).chain((s) =>
      fc
        .tuple(tensorSpec(s), fc.integer({ min: 0, max: s.length - 1 }))
        .chain(([x, a]) =>
          fc
            .integer({ min: 0, max: s[a] })
            .chain((start) =>
              fc.integer({ min: 0, max: s[a] - start }).map((len) => ({ inputs: [x], attrs: { a, start, len } })),
            ),
        ),
    );
    checkOp({
      name: 'narrow',
      cases,
      fn: ([x], { a, start, len }) => narrow(x, a, start, len),
      reference: ([x], { a, start, len }) =>
        build(
          x.shape.map((d, i) => (i === a ? len : d)),
          (idx) =>
            at(
              x,
              idx.map((v, i) => (i === a ? v + start : v)),
            ),
        ),
    });
    const x = arange(10);
    expect(Array.from(x.slice(0, -3).dataSync())).toEqual([7, 8, 9]);
    expect(Array.from(x.slice(0, 2, -5).dataSync())).toEqual([2, 3, 4]);
    expect(Array.from(x.slice(0, 8, 100).dataSync())).toEqual([8, 9]);
    expect(x.slice(0, 6, 2).shape).toEqual([0]);
  });

  it('squeeze / unsqueeze / flatten', () => {
    const cases = shape({ maxRank: 4, maxDim: 3 }).chain((s) =>
      fc.tuple(tensorSpec(s), fc.integer({ min: 0, max: s.length })).map(([x, at]) => ({ inputs: [x], attrs: { at } })),
    );
    checkOp({
      name: 'unsqueeze+squeeze',
      cases,
      fn: ([x], { at }) => x.unsqueeze(at).mul(2).squeeze(at),
      reference: ([x]) => ndarray.map(x, (v) => 2 * v),
    });
    checkOp({
      name: 'squeeze(all)',
      cases,
      fn: ([x]) => x.squeeze(),
      reference: ([x]) => ({ shape: x.shape.filter((d) => d !== 1), data: x.data }),
    });
    checkOp({
      name: 'flatten',
      cases,
      fn: ([x]) => flatten(x),
      reference: ([x]) => ({ shape: [x.data.length], data: x.data }),
    });
  });

  it('contiguous copies a strided view into row-major order', () => {
    checkOp({
      name: 'contiguous',
      cases: tensorSpec(shape({ maxRank: 4 })).map((x) => ({ inputs: [x], attrs: {} })),
      fn: ([x]) => {
        const y = x.contiguous();
        expect(y.isContiguous()).toBe(true);
        return y;
      },
      reference: ([x]) => x,
    });
  });
});

describe('views: share storage and never copy', () => {
  it('permute / transpose / reshape / expand / narrow / squeeze / unsqueeze keep the storage', () => {
    const x = zeros([2, 3, 4]);
    for (const v of [
      x.permute(2, 0, 1),
      x.transpose(0, 1),
      x.reshape(6, 4),
      x.narrow(1, 1, 2),
      x.unsqueeze(0).squeeze(0),
      x.slice(2, 1),
    ]) {
      expect(v.storage).toBe(x.storage);
    }
    expect(x.sum(0, true).expand(5, 3, 4).storage).not.toBe(x.storage);
    expect(x.unsqueeze(0).expand(5, 2, 3, 4).strides[0]).toBe(0);
  });

  it('a non-contiguous view is reshaped by copying; view() refuses', () => {
    const t = arange(6).reshape(2, 3).transpose(0, 1);
    expect(t.isContiguous()).toBe(false);
    expect(t.reshape(6).toArraySync()).toEqual([0, 3, 1, 4, 2, 5]);
    expect(() => t.view(6)).toThrow(/view: tensor \[3,2\] with strides \[1,3\] is not contiguous/);
  });
});

describe('views: laws', () => {
  it('reshape ∘ reshape⁻¹ = id (bit-exact, any layout)', () => {
    checkProperty(
      reshapePair.chain(([from, to]) => tensorSpec(from).map((x) => ({ x, to }))),
      ({ x, to }) => {
        const t = tensor(Float64Array.from(x.values), { shape: x.shape });
        expect(Array.from(t.reshape(to).reshape(x.shape).dataSync())).toEqual(Array.from(t.dataSync()));
        expect(t.reshape(to).reshape(x.shape).shape).toEqual(x.shape);
      },
      50,
    );
  });

  it('permute then its inverse is the identity', () => {
    checkProperty(
      shape({ maxRank: 5 }).chain((s) =>
        fc.tuple(
          fc.constant(s),
          fc.shuffledSubarray(
            s.map((_, i) => i),
            { minLength: s.length },
          ),
        ),
      ),
      ([s, dims]) => {
        const t = arange(s.reduce((a, b) => a * b, 1)).reshape(s);
        const inv = dims.map((_, i) => dims.indexOf(i));
        expect(
          t
            .permute(...dims)
            .permute(...inv)
            .toArraySync(),
        ).toEqual(t.toArraySync());
      },
      50,
    );
  });
});

describe('views: errors name the op and the shapes', () => {
  it('bad reshape, permute, expand, narrow and axes', () => {
    const x = zeros([2, 3]);
    expect(() => x.reshape(4, 2)).toThrow('reshape: cannot view [2,3] (6 elements) as [4,2]');
    expect(() => x.reshape(-1, -1)).toThrow('reshape: invalid shape [-1,-1]');
    expect(() => x.permute(0, 0)).toThrow('permute: [0,0] is not a permutation of the 2 axes of [2,3]');
    expect(() => x.expand(4, 3)).toThrow('expand: cannot expand [2,3] to [4,3]');
    expect(() => x.narrow(1, 2, 2)).toThrow('narrow: range [2, 4) is outside axis 1 of size 3 in [2,3]');
    expect(() => x.transpose(0, 2)).toThrow('transpose: axis 2 is out of range for a tensor of rank 2');
    expect(() => reshape(x, [1.5, 4])).toThrow('reshape: invalid shape [1.5,4]');
  });
});
