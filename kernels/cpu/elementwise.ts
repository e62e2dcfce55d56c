// Elementwise CPU kernels: unary maps, binary maps over equal shapes, where, cast and the strided copy.
// Broadcasting already happened in the op layer (expand + contiguous), so every loop here is flat.

import { allocArray, arrayFrom, type TypedArray } from '../../core/dtype.js';
import type { Buf, Kernel, KernelAttrs, OutSpec } from '../../core/kernel_types.js';
import { isContiguous, sizeOf } from '../../core/shape.js';
import { erf, gelu as geluScalar, sigmoid as sigmoidScalar } from './math.js';

type CpuBuf = Buf<TypedArray>;
type None = KernelAttrs['neg'];

function make(out: OutSpec, data: TypedArray): CpuBuf {
  return { data, shape: out.shape, dtype: out.dtype };
}

/** Lift a scalar function to a kernel: out[i] = f(x[i]). */
function unary(f: (x: number) => number): Kernel<TypedArray, None> {
  return ([x], _attrs, out) => {
    const src = x!.data;
    const dst = allocArray(out.dtype, src.length);
    for (let i = 0; i < src.length; i++) dst[i] = f(src[i]);
    return make(out, dst);
  };
}

/** Lift a scalar function of two arguments: out[i] = f(a[i], b[i]) (shapes already equal). */
function binary(f: (a: number, b: number) => number): Kernel<TypedArray, None> {
  return ([a, b], _attrs, out) => {
    const x = a!.data;
    const y = b!.data;
    const dst = allocArray(out.dtype, x.length);
    for (let i = 0; i < x.length; i++) dst[i] = f(x[i], y[i]);
    return make(out, dst);
  };
}

export const neg = unary((x) => -x);
export const abs = unary(Math.abs);
export const sign = unary(Math.sign);
export const exp = unary(Math.exp);
export const log = unary(Math.log);
export const sqrt = unary(Math.sqrt);
export const rsqrt = unary((x) => 1 / Math.sqrt(x));
export const sin = unary(Math.sin);
export const cos = unary(Math.cos);
export const tanh = unary(Math.tanh);
export const sigmoid = unary(sigmoidScalar);
export const relu = unary((x) => (x > 0 ? x : 0));
export const silu = unary((x) => x * sigmoidScalar(x));
export const erfKernel = unary(erf);
export const square = unary((x) => x * x);
export const reciprocal = unary((x) => 1 / x);
export const logicalNot = unary((x) => (x === 0 ? 1 : 0));

export const gelu: Kernel<TypedArray, KernelAttrs['gelu']> = (inputs, { approximate }, out) =>
  unary((x) => geluScalar(x, approximate))(inputs, {}, out);

/** clamp(x, min, max); NaN stays NaN, as in PyTorch. */
export const clamp: Kernel<TypedArray, KernelAttrs['clamp']> = (inputs, { min, max }, out) =>
  unary((x) => (x < min ? min : x > max ? max : x))(inputs, {}, out);

export const add = binary((a, b) => a + b);
export const sub = binary((a, b) => a - b);
export const mul = binary((a, b) => a * b);
/** True division; the op layer admits floating dtypes only. */
export const div = binary((a, b) => a / b);
export const pow = binary(Math.pow);
// maximum/minimum propagate NaN, like torch.maximum.
export const maximum = binary((a, b) => (a !== a || b !== b ? NaN : a > b ? a : b));
export const minimum = binary((a, b) => (a !== a || b !== b ? NaN : a < b ? a : b));
export const eq = binary((a, b) => (a === b ? 1 : 0));
export const ne = binary((a, b) => (a !== b ? 1 : 0));
export const lt = binary((a, b) => (a < b ? 1 : 0));
export const le = binary((a, b) => (a <= b ? 1 : 0));
export const gt = binary((a, b) => (a > b ? 1 : 0));
export const ge = binary((a, b) => (a >= b ? 1 : 0));
export const logicalAnd = binary((a, b) => (a !== 0 && b !== 0 ? 1 : 0));
export const logicalOr = binary((a, b) => (a !== 0 || b !== 0 ? 1 : 0));

export const where: Kernel<TypedArray, None> = ([cond, a, b], _attrs, out) => {
  const c = cond!.data;
  const x = a!.data;
  const y = b!.data;
  const dst = allocArray(out.dtype, c.length);
  for (let i = 0; i < c.length; i++) dst[i] = c[i] !== 0 ? x[i] : y[i];
  return make(out, dst);
};

/** Convert between dtypes: float→int truncates toward zero, anything→bool is `!= 0`. */
export const cast: Kernel<TypedArray, None> = ([x], _attrs, out) => make(out, arrayFrom(out.dtype, x!.data));

/**
 * Gather a strided view into a fresh contiguous array. A view that is already contiguous is
 * returned as a subarray of its storage: no copy.
 */
export const contiguous: Kernel<TypedArray, KernelAttrs['contiguous']> = ([x], { strides, offset }, out) => {
  const shape = out.shape;
  const n = sizeOf(shape);
  const src = x!.data;
  if (isContiguous(shape, strides)) return make(out, src.subarray(offset, offset + n));
  const dst = allocArray(out.dtype, n);
  // A fully broadcast scalar (every stride 0, as `x.mul(2)` produces) is a fill.
  if (strides.every((s) => s === 0)) return make(out, dst.fill(src[offset]));
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  let pos = offset;
  for (let i = 0; i < n; i++) {
    dst[i] = src[pos];
    // Odometer increment over the multi-index, moving `pos` by the strides.
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      pos += strides[d];
      if (idx[d] < shape[d]) break;
      pos -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
  return make(out, dst);
};

