// Elementwise CPU kernels: unary maps, binary maps over equal shapes, where, cast and the strided copy.
// Broadcasting already happened in the op layer (expand + contiguous), so every loop here is flat.

import { arrayFrom, isStorageDtype, type TypedArray } from '../../core/dtype.js';
import type { Buf, Kernel, KernelAttrs, KernelTable, OutSpec } from '../../core/kernel_types.js';
import { isContiguous, sizeOf } from '../../core/shape.js';
import { erf, gelu as geluScalar, sigmoid as sigmoidScalar } from './math.js';
import { allocFor } from './shared.js';
import { castStorage } from './storage.js';

type CpuBuf = Buf<TypedArray>;
type None = KernelAttrs['neg'];

function make(out: OutSpec, data: TypedArray): CpuBuf {
  return { data, shape: out.shape, dtype: out.dtype };
}

type Loop1 = (x: TypedArray, out: TypedArray, n: number) => void;
type Loop2 = (a: TypedArray, b: TypedArray, out: TypedArray, n: number) => void;

/**
 * A one-input kernel from its loop. Every kernel below writes its own loop rather than passing a
 * scalar function to one shared loop: a shared loop's call site sees every op, V8 cannot inline it,
 * and it runs ~10× slower.
 */
function unary(loop: Loop1): Kernel<TypedArray, None> {
  return ([x], _attrs, out) => {
    const dst = allocFor(out.dtype, x.data.length);
    loop(x.data, dst, x.data.length);
    return make(out, dst);
  };
}

/** A two-input kernel (shapes already equal) from its loop. */
function binary(loop: Loop2): Kernel<TypedArray, None> {
  return ([a, b], _attrs, out) => {
    const dst = allocFor(out.dtype, a.data.length);
    loop(a.data, b.data, dst, a.data.length);
    return make(out, dst);
  };
}

/** Unary maps, out[i] = f(x[i]): the one-input ops of core/ops/unary.ts (the unary op test iterates these keys). */
export const unaryKernels = {
  neg: unary((x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = -x[i];
  }),
  abs: unary((x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.abs(x[i]);
  }),
  sign: unary((x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.sign(x[i]);
  }),
  exp: unary((x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.exp(x[i]);
  }),
  log: unary((x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.log(x[i]);
  }),
  sqrt: unary((x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.sqrt(x[i]);
  }),
  rsqrt: unary((x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = 1 / Math.sqrt(x[i]);
  }),
  sin: unary((x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.sin(x[i]);
  }),
  cos: unary((x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.cos(x[i]);
  }),
  tanh: unary((x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.tanh(x[i]);
  }),
  sigmoid: unary((x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = sigmoidScalar(x[i]);
  }),
  relu: unary((x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = x[i] > 0 ? x[i] : 0;
  }),
  silu: unary((x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = x[i] * sigmoidScalar(x[i]);
  }),
  erf: unary((x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = erf(x[i]);
  }),
  square: unary((x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = x[i] * x[i];
  }),
  reciprocal: unary((x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = 1 / x[i];
  }),
  gelu: ([x], { approximate }, out) => {
    const dst = allocFor(out.dtype, x.data.length);
    for (let i = 0; i < dst.length; i++) dst[i] = geluScalar(x.data[i], approximate);
    return make(out, dst);
  },

  /** clamp(x, min, max); NaN stays NaN, as in PyTorch. */
  clamp: ([x], { min, max }, out) => {
    const dst = allocFor(out.dtype, x.data.length);
    for (let i = 0; i < dst.length; i++) {
      const v = x.data[i];
      dst[i] = v < min ? min : v > max ? max : v;
    }
    return make(out, dst);
  },
} satisfies Partial<KernelTable<TypedArray>>;

/** Binary arithmetic over equal shapes (core/ops/binary.ts). */
export const binaryKernels = {
  add: binary((a, b, o, n) => {
    for (let i = 0; i < n; i++) o[i] = a[i] + b[i];
  }),
  sub: binary((a, b, o, n) => {
    for (let i = 0; i < n; i++) o[i] = a[i] - b[i];
  }),
  mul: binary((a, b, o, n) => {
    for (let i = 0; i < n; i++) o[i] = a[i] * b[i];
  }),
  /** True division; the op layer admits floating dtypes only. */
  div: binary((a, b, o, n) => {
    for (let i = 0; i < n; i++) o[i] = a[i] / b[i];
  }),
  pow: binary((a, b, o, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.pow(a[i], b[i]);
  }),
  // maximum/minimum propagate NaN, like torch.maximum (`v !== v` is the NaN test).
  maximum: binary((a, b, o, n) => {
    for (let i = 0; i < n; i++) o[i] = a[i] !== a[i] || b[i] !== b[i] ? NaN : a[i] > b[i] ? a[i] : b[i];
  }),
  minimum: binary((a, b, o, n) => {
    for (let i = 0; i < n; i++) o[i] = a[i] !== a[i] || b[i] !== b[i] ? NaN : a[i] < b[i] ? a[i] : b[i];
  }),
} satisfies Partial<KernelTable<TypedArray>>;

/** Comparisons and logic, giving bool (core/ops/compare.ts). */
const compareKernels = {
  eq: binary((a, b, o, n) => {
    for (let i = 0; i < n; i++) o[i] = a[i] === b[i] ? 1 : 0;
  }),
  ne: binary((a, b, o, n) => {
    for (let i = 0; i < n; i++) o[i] = a[i] !== b[i] ? 1 : 0;
  }),
  lt: binary((a, b, o, n) => {
    for (let i = 0; i < n; i++) o[i] = a[i] < b[i] ? 1 : 0;
  }),
  le: binary((a, b, o, n) => {
    for (let i = 0; i < n; i++) o[i] = a[i] <= b[i] ? 1 : 0;
  }),
  gt: binary((a, b, o, n) => {
    for (let i = 0; i < n; i++) o[i] = a[i] > b[i] ? 1 : 0;
  }),
  ge: binary((a, b, o, n) => {
    for (let i = 0; i < n; i++) o[i] = a[i] >= b[i] ? 1 : 0;
  }),
  logicalAnd: binary((a, b, o, n) => {
    for (let i = 0; i < n; i++) o[i] = a[i] !== 0 && b[i] !== 0 ? 1 : 0;
  }),
  logicalOr: binary((a, b, o, n) => {
    for (let i = 0; i < n; i++) o[i] = a[i] !== 0 || b[i] !== 0 ? 1 : 0;
  }),
  logicalNot: unary((x, o, n) => {
    for (let i = 0; i < n; i++) o[i] = x[i] === 0 ? 1 : 0;
  }),
} satisfies Partial<KernelTable<TypedArray>>;

const where: Kernel<TypedArray, KernelAttrs['where']> = ([cond, a, b], _attrs, out) => {
  const c = cond!.data;
  const x = a!.data;
  const y = b!.data;
  const dst = allocFor(out.dtype, c.length);
  for (let i = 0; i < c.length; i++) dst[i] = c[i] !== 0 ? x[i] : y[i];
  return make(out, dst);
};

/**
 * Convert between dtypes: float→int truncates toward zero, anything→bool is `!= 0`; to or from a storage
 * dtype (bfloat16, float16, q8_0, q4_0) goes through float32 (storage.ts).
 */
const cast: Kernel<TypedArray, KernelAttrs['cast']> = ([x], _attrs, out) =>
  isStorageDtype(x!.dtype) || isStorageDtype(out.dtype)
    ? make(out, castStorage(x!, out.dtype))
    : make(out, arrayFrom(out.dtype, x!.data));

/**
 * Gather a strided view into a fresh contiguous array. A view that is already contiguous is returned
 * as a subarray of its storage: no copy. Otherwise an odometer walks the outer axes and a tight loop
 * copies each run along the last axis.
 */
const contiguous: Kernel<TypedArray, KernelAttrs['contiguous']> = ([x], { strides, offset }, out) => {
  const shape = out.shape;
  const n = sizeOf(shape);
  const src = x.data;
  if (isContiguous(shape, strides)) return make(out, src.subarray(offset, offset + n));
  const dst = allocFor(out.dtype, n);
  // A fully broadcast scalar (every stride 0, as `x.mul(2)` produces) is a fill.
  if (strides.every((s) => s === 0)) return make(out, dst.fill(src[offset]));
  const rank = shape.length;
  const inner = shape[rank - 1];
  const step = strides[rank - 1];
  const idx = new Array<number>(rank).fill(0);
  let pos = offset;
  for (let k = 0; k < n; k += inner) {
    if (step === 1) dst.set(src.subarray(pos, pos + inner), k);
    else for (let j = 0; j < inner; j++) dst[k + j] = src[pos + j * step];
    // Odometer over the outer axes, moving `pos` by their strides.
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]++;
      pos += strides[d];
      if (idx[d] < shape[d]) break;
      pos -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
  return make(out, dst);
};

/** The family's table (kernels/cpu/index.ts spreads it into the backend). */
export const elementwiseKernels = {
  ...unaryKernels,
  ...binaryKernels,
  ...compareKernels,
  where,
  cast,
  contiguous,
} satisfies Partial<KernelTable<TypedArray>>;
