// Elementwise functions of one tensor. Each op: forward kernel key, dtype rule, and its derivative
// written in ops (from the saved input x or the saved output y, whichever is cheaper).

import type { DType } from '../dtype.js';
import type { NoAttrKernel } from '../kernel_types.js';
import { apply, type KernelOp } from '../op.js';
import type { Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { where } from './compare.js';
import { floating, numeric } from './util.js';

declare module '../kernel_types.js' {
  /** Unary elementwise kernels: out[i] = f(x[i]). */
  interface KernelAttrs {
    neg: NoAttrs;
    abs: NoAttrs;
    sign: NoAttrs;
    exp: NoAttrs;
    log: NoAttrs;
    sqrt: NoAttrs;
    rsqrt: NoAttrs;
    sin: NoAttrs;
    cos: NoAttrs;
    tanh: NoAttrs;
    sigmoid: NoAttrs;
    relu: NoAttrs;
    silu: NoAttrs;
    erf: NoAttrs;
    square: NoAttrs;
    reciprocal: NoAttrs;
    gelu: { approximate: 'none' | 'tanh' };
    clamp: { min: number; max: number };
  }
}

const same = ({ x }: Record<'x', Shape>) => x;
const num =
  (op: string) =>
  ({ x }: Record<'x', DType>) =>
    numeric(op, x);

/** Build a one-input op: `derivative(x, y)` is dy/dx, so backward is dx = dy · derivative. */
function elementwise<K extends NoAttrKernel>(
  name: K,
  dtype: (d: Record<'x', DType>) => DType,
  save: readonly ('x' | 'out')[],
  derivative: ((x: Tensor, y: Tensor) => Tensor) | null,
): KernelOp<'x', K> {
  return {
    name,
    inputs: ['x'],
    shape: same,
    dtype,
    save,
    backward: (dy, { x, out }) => ({
      x: () => (derivative ? dy.mul(derivative(x, out)) : dy.mul(0)),
    }),
  };
}

/** y = −x; dx = −dy. */
export const Neg: KernelOp<'x', 'neg'> = {
  name: 'neg',
  inputs: ['x'],
  shape: same,
  dtype: num('neg'),
  backward: (dy) => ({ x: () => dy.neg() }),
};
/** y = |x|; dx = dy·sign(x) (0 at 0, as PyTorch). */
export const Abs = elementwise('abs', num('abs'), ['x'], (x) => x.sign());
/** y = sign(x); a step function: dx = 0. */
export const Sign = elementwise('sign', num('sign'), [], null);
/** y = eˣ; dx = dy·y. */
export const Exp = elementwise('exp', floating('exp'), ['out'], (_, y) => y);
/** y = ln x; dx = dy/x. */
export const Log = elementwise('log', floating('log'), ['x'], (x) => x.reciprocal());
/** y = √x; dx = dy/(2y). */
export const Sqrt = elementwise('sqrt', floating('sqrt'), ['out'], (_, y) => y.mul(2).reciprocal());
/** y = 1/√x; dx = −dy·y³/2. */
export const Rsqrt = elementwise('rsqrt', floating('rsqrt'), ['out'], (_, y) => y.pow(3).mul(-0.5));
/** y = sin x; dx = dy·cos x. */
export const Sin = elementwise('sin', floating('sin'), ['x'], (x) => x.cos());
/** y = cos x; dx = −dy·sin x. */
export const Cos = elementwise('cos', floating('cos'), ['x'], (x) => x.sin().neg());
/** y = tanh x; dx = dy·(1 − y²). */
export const Tanh = elementwise('tanh', floating('tanh'), ['out'], (_, y) => y.square().neg().add(1));
/** y = σ(x) = 1/(1+e^−x); dx = dy·y·(1 − y). */
export const Sigmoid = elementwise('sigmoid', floating('sigmoid'), ['out'], (_, y) => y.mul(y.neg().add(1)));
/** y = max(x, 0); dx = dy where x > 0, else 0. */
export const Relu = elementwise('relu', num('relu'), ['x'], (x) => x.gt(0).to(x.dtype));
/** d silu(x)/dx = σ(x)·(1 + x·(1 − σ(x))). */
export function siluDerivative(x: Tensor): Tensor {
  const s = x.sigmoid();
  return s.mul(x.mul(s.neg().add(1)).add(1));
}

/** y = x·σ(x); dx = dy·σ(x)·(1 + x·(1 − σ(x))). */
export const Silu = elementwise('silu', floating('silu'), ['x'], siluDerivative);
/** y = erf x; dx = dy·(2/√π)·e^(−x²). */
export const Erf = elementwise('erf', floating('erf'), ['x'], (x) =>
  x
    .square()
    .neg()
    .exp()
    .mul(2 / Math.sqrt(Math.PI)),
);
/** y = x²; dx = 2·dy·x. */
export const Square = elementwise('square', num('square'), ['x'], (x) => x.mul(2));
/** y = 1/x; dx = −dy·y². */
export const Reciprocal = elementwise('reciprocal', floating('reciprocal'), ['out'], (_, y) => y.square().neg());

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * GELU. Exact: y = x·Φ(x), dx = dy·(Φ(x) + x·φ(x)). Tanh form: y = ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³),
 * dx = dy·(½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²)) with t = tanh u.
 */
export const Gelu: KernelOp<'x', 'gelu'> = {
  name: 'gelu',
  inputs: ['x'],
  shape: same,
  dtype: floating('gelu'),
  save: ['x'],
  backward: (dy, { x }, { approximate }) => ({ x: () => dy.mul(geluDerivative(x, approximate)) }),
};

/** d gelu(x)/dx, exact (Φ(x) + x·φ(x)) or of the tanh approximation. */
export function geluDerivative(x: Tensor, approximate: 'none' | 'tanh'): Tensor {
  if (approximate === 'tanh') {
    const t = x.add(x.pow(3).mul(0.044715)).mul(SQRT_2_OVER_PI).tanh();
    const du = x
      .square()
      .mul(3 * 0.044715)
      .add(1)
      .mul(SQRT_2_OVER_PI);
    return t
      .add(1)
      .mul(0.5)
      .add(x.mul(0.5).mul(t.square().neg().add(1)).mul(du));
  }
  const cdf = x.mul(Math.SQRT1_2).erf().add(1).mul(0.5);
  const pdf = x
    .square()
    .mul(-0.5)
    .exp()
    .mul(1 / Math.sqrt(2 * Math.PI));
  return cdf.add(x.mul(pdf));
}

/** y = min(max(x, lo), hi); dx = dy where lo ≤ x ≤ hi, else 0. */
export const Clamp: KernelOp<'x', 'clamp'> = {
  name: 'clamp',
  inputs: ['x'],
  shape: same,
  dtype: num('clamp'),
  save: ['x'],
  backward: (dy, { x }, { min, max }) => ({ x: () => where(x.ge(min).logicalAnd(x.le(max)), dy, 0) }),
};

export const neg = (x: Tensor) => apply(Neg, { x }, {});
export const abs = (x: Tensor) => apply(Abs, { x }, {});
export const sign = (x: Tensor) => apply(Sign, { x }, {});
export const exp = (x: Tensor) => apply(Exp, { x }, {});
export const log = (x: Tensor) => apply(Log, { x }, {});
export const sqrt = (x: Tensor) => apply(Sqrt, { x }, {});
export const rsqrt = (x: Tensor) => apply(Rsqrt, { x }, {});
export const sin = (x: Tensor) => apply(Sin, { x }, {});
export const cos = (x: Tensor) => apply(Cos, { x }, {});
export const tanh = (x: Tensor) => apply(Tanh, { x }, {});
export const sigmoid = (x: Tensor) => apply(Sigmoid, { x }, {});
export const relu = (x: Tensor) => apply(Relu, { x }, {});
export const silu = (x: Tensor) => apply(Silu, { x }, {});
export const erf = (x: Tensor) => apply(Erf, { x }, {});
export const square = (x: Tensor) => apply(Square, { x }, {});
export const reciprocal = (x: Tensor) => apply(Reciprocal, { x }, {});
export const gelu = (x: Tensor, approximate: 'none' | 'tanh' = 'none') => apply(Gelu, { x }, { approximate });

/** clamp(x, min, max); either bound may be null (unbounded), as in torch.clamp. */
export function clamp(x: Tensor, min: number | null, max: number | null = null): Tensor {
  if (min === null && max === null) throw new Error('clamp: at least one of min and max must be given');
  const lo = min ?? -Infinity;
  const hi = max ?? Infinity;
  if (Number.isNaN(lo) || Number.isNaN(hi)) throw new Error(`clamp: bounds must not be NaN, got min=${min} max=${max}`);
  return apply(Clamp, { x }, { min: lo, max: hi });
}
