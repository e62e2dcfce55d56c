// Binary arithmetic (add, sub, mul, div, pow, maximum, minimum) with NumPy broadcasting: forward against an
// independent broadcasting reference, gradients (including the un-broadcast sum) by finite differences;
// dtype rules and errors. (Comparisons, logic, where and maskedFill are in compare.test.ts.)
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tensor, zeros, type Tensor } from '../../core/index.js';
import { broadcastShapes, checkOp, ndarray, tensorSpec, toND, type ValueOptions } from '../../core/testing/index.js';

interface BinaryCase {
  name: string;
  fn: (a: Tensor, b: Tensor) => Tensor;
  ref: (a: number, b: number) => number;
  a?: ValueOptions;
  b?: ValueOptions;
  /** Draw only pairs that are exactly tied or clearly apart (max/min have a kink at a = b). */
  separated?: boolean;
}

const CASES: BinaryCase[] = [
  { name: 'add', fn: (a, b) => a.add(b), ref: (a, b) => a + b },
  { name: 'sub', fn: (a, b) => a.sub(b), ref: (a, b) => a - b },
  { name: 'mul', fn: (a, b) => a.mul(b), ref: (a, b) => a * b },
  { name: 'div', fn: (a, b) => a.div(b), ref: (a, b) => a / b, b: { awayFrom: [0], gap: 0.3 } },
  { name: 'pow', fn: (a, b) => a.pow(b), ref: Math.pow, a: { min: 0.2, max: 3 }, b: { min: -2, max: 2 } },
  { name: 'maximum', fn: (a, b) => a.maximum(b), ref: Math.max, separated: true },
  { name: 'minimum', fn: (a, b) => a.minimum(b), ref: Math.min, separated: true },
];

function pairCases(a: ValueOptions = {}, b: ValueOptions = {}, separated = false) {
  const cases = broadcastShapes(2, { maxRank: 3 }).chain(([sa, sb]) =>
    fc.tuple(tensorSpec(sa, a), tensorSpec(sb, b)).map(([x, y]) => ({ inputs: [x, y], attrs: {} })),
  );
  if (!separated) return cases;
  const apart = (u: number, v: number) => (u === v || Math.abs(u - v) > 1e-3 ? 1 : 0);
  return cases.filter(({ inputs: [x, y] }) => ndarray.zip([toND(x), toND(y)], apart).data.every((ok) => ok === 1));
}

describe('binary: broadcast forward = reference, backward = finite differences', () => {
  for (const c of CASES) {
    it(c.name, () => {
      checkOp({
        name: c.name,
        cases: pairCases(c.a, c.b, c.separated),
        fn: ([a, b]) => c.fn(a, b),
        reference: ([a, b]) => ndarray.zip([a, b], c.ref),
      });
    });
  }

  it('a number operand is broadcast as a scalar of the tensor dtype, on either side', () => {
    checkOp({
      name: 'scalar operands',
      cases: tensorSpec([2, 3], { awayFrom: [0], gap: 0.3 }).map((x) => ({ inputs: [x], attrs: {} })),
      fn: ([x]) => x.mul(2).add(1).sub(0.5).div(4).pow(2).maximum(0.1).minimum(3),
      reference: ([x]) => ndarray.map(x, (v) => Math.min(Math.max(((v * 2 + 1 - 0.5) / 4) ** 2, 0.1), 3)),
    });
  });

  it('pow: x^2 has finite gradients at x = 0, and the exponent gradient is 0 there (PyTorch convention)', () => {
    const x = tensor([0, 2], { dtype: 'float64', requiresGrad: true });
    const p = tensor([2, 3], { dtype: 'float64', requiresGrad: true });
    x.pow(p).sum().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([0, 12]);
    expect(Array.from(p.grad!.dataSync())).toEqual([0, 8 * Math.log(2)]);
  });

  it('maximum/minimum split the gradient evenly on ties (= the central difference)', () => {
    const a = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    const b = tensor([1, 3], { dtype: 'float64', requiresGrad: true });
    a.maximum(b).sum().backward();
    expect(Array.from(a.grad!.dataSync())).toEqual([0.5, 0]);
    expect(Array.from(b.grad!.dataSync())).toEqual([0.5, 1]);
  });
});

describe('binary: dtype rules and errors', () => {
  it('int32 arithmetic stays int32; true division needs floats', () => {
    const i = tensor([7, -7], { dtype: 'int32' });
    expect(i.add(1).dtype).toBe('int32');
    expect(Array.from(i.mul(i).dataSync())).toEqual([49, 49]);
    expect(() => i.div(2)).toThrow(/div: expects a floating tensor/);
    expect(() => i.add(0.5)).toThrow(/add: an int32 tensor cannot be combined with the non-integer 0.5/);
  });

  it('mismatched dtypes and non-broadcastable shapes name the op and what it got', () => {
    expect(() => tensor([1], { dtype: 'float32' }).add(tensor([1], { dtype: 'float64' }))).toThrow(
      /add: dtype mismatch: float32 and float64/,
    );
    expect(() => zeros([2, 3]).mul(zeros([4]))).toThrow('mul: shapes [2,3] and [4] cannot be broadcast together');
    expect(() => tensor([true]).add(tensor([true]))).toThrow(/add: expects a numeric tensor, got bool/);
  });
});
