// Elementwise GPU kernels: unary and binary maps, where, cast, clamp, GELU, and the strided copy
// (`contiguous`). Each map is one expression over `x` (or `a`, `b`) and becomes one compiled kernel.
// Math is float32 on every mode; where a plain formula breaks on some mode (Math.pow of a negative
// base, tanh of a large argument, erf, which no mode has) the source says so.

import type { KernelAttrs, NoAttrKernel } from '../../core/kernel_types.js';
import { divmod, hostArray, kernel, launch, type GpuBuf, type GpuKernels, type KernelGroup } from './common.js';
import type { KernelSource } from './runtime.js';

/** Stable logistic: never exp of a large positive number. */
const SIGMOID = (x: string) => `(${x} >= 0 ? 1 / (1 + Math.exp(-${x})) : Math.exp(${x}) / (1 + Math.exp(${x})))`;

/** tanh from exp(−2|x|), which never overflows (a plain (e^x − e^−x)/(e^x + e^−x) gives NaN past |x| ≈ 44). */
const TANH = (x: string, y: string) => `const e_${y} = Math.exp(-2 * Math.abs(${x}));
    let ${y} = (1 - e_${y}) / (1 + e_${y});
    if (${x} < 0) { ${y} = -${y}; }`;

/**
 * erf by Abramowitz & Stegun 7.1.26 (absolute error ≤ 1.5e-7, below float32's resolution of erf's
 * range): no gpu.js mode has an erf.
 */
const ERF = (x: string, y: string) => `const ax_${y} = Math.abs(${x});
    const t_${y} = 1 / (1 + 0.3275911 * ax_${y});
    const poly_${y} = ((((1.061405429 * t_${y} - 1.453152027) * t_${y} + 1.421413741) * t_${y} - 0.284496736) * t_${y} + 0.254829592) * t_${y};
    let ${y} = 1 - poly_${y} * Math.exp(-ax_${y} * ax_${y});
    if (${x} < 0) { ${y} = -${y}; }`;

/** The activations linear fuses: statements declaring `y` from `x`. */
export const ACTIVATION = {
  silu: (y: string) => `const ${y} = x * ${SIGMOID('x')};`,
  gelu: (y: string) =>
    `const u_${y} = x * 0.7071067811865476; ${ERF(`u_${y}`, `erf_${y}`)} const ${y} = 0.5 * x * (1 + erf_${y});`,
  gelu_tanh: (y: string) =>
    `const u_${y} = 0.7978845608028654 * (x + 0.044715 * x * x * x); ${TANH(`u_${y}`, `t_${y}`)} const ${y} = 0.5 * x * (1 + t_${y});`,
};

/**
 * Unary maps, one per kernel key (the contract's keys: a misspelt one is a compile error): statements
 * ending in `return` of the value for input `x`. Each becomes its kernel in the table below.
 */
const UNARY = {
  neg: 'return -x;',
  abs: 'return Math.abs(x);',
  sign: 'return x > 0 ? 1 : (x < 0 ? -1 : 0);',
  exp: 'return Math.exp(x);',
  log: 'return Math.log(x);',
  sqrt: 'return Math.sqrt(x);',
  rsqrt: 'return 1 / Math.sqrt(x);',
  sin: 'return Math.sin(x);',
  cos: 'return Math.cos(x);',
  tanh: `${TANH('x', 'y')} return y;`,
  sigmoid: `return ${SIGMOID('x')};`,
  relu: 'return x > 0 ? x : 0;',
  silu: `${ACTIVATION.silu('y')} return y;`,
  erf: `${ERF('x', 'y')} return y;`,
  square: 'return x * x;',
  reciprocal: 'return 1 / x;',
  logicalNot: 'return x == 0 ? 1 : 0;',
} satisfies Partial<Record<NoAttrKernel, string>>;

/** Maps that serve kernels with attributes (gelu's two forms, cast by target dtype). */
const VARIANTS = {
  gelu_none: `${ACTIVATION.gelu('y')} return y;`,
  gelu_tanh: `${ACTIVATION.gelu_tanh('y')} return y;`,
  // float → int32 truncates toward zero; anything → bool is x ≠ 0.
  cast_int32: 'return x < 0 ? Math.ceil(x) : Math.floor(x);',
  cast_bool: 'return x != 0 ? 1 : 0;',
  copy: 'return x;',
};

/**
 * a^b as Math.pow defines it where GPU pow — exp2(b·log2(a)) — is undefined: a negative base with an
 * integer exponent (odd → negative result), and 0 to a negative power (+∞, passed in as `inf`
 * because WGSL rejects an infinite constant).
 */
const POW = `if (a == 0 && b < 0) { return inf; }
    if (a < 0 && Math.floor(b) == b) {
      const r = Math.pow(-a, b);
      const half = b * 0.5;
      return Math.floor(half) == half ? r : -r;
    }
    return Math.pow(a, b);`;

/** Binary maps over equal shapes (broadcast already happened in the op layer), one per kernel key. */
const BINARY = {
  add: 'return a + b;',
  sub: 'return a - b;',
  mul: 'return a * b;',
  div: 'return a / b;',
  pow: POW,
  maximum: 'return a > b ? a : b;',
  minimum: 'return a < b ? a : b;',
  eq: 'return a == b ? 1 : 0;',
  ne: 'return a != b ? 1 : 0;',
  lt: 'return a < b ? 1 : 0;',
  le: 'return a <= b ? 1 : 0;',
  gt: 'return a > b ? 1 : 0;',
  ge: 'return a >= b ? 1 : 0;',
  logicalAnd: 'return a != 0 && b != 0 ? 1 : 0;',
  logicalOr: 'return a != 0 || b != 0 ? 1 : 0;',
} satisfies Partial<Record<NoAttrKernel, string>>;

const unarySource = (name: string, body: string) => kernel(name, `function (xs) { const x = xs[this.thread.x]; ${body} }`);
const binarySource = (name: string, body: string) =>
  kernel(name, `function (as, bs, inf) { const a = as[this.thread.x]; const b = bs[this.thread.x]; ${body} }`);
const variant = (name: keyof typeof VARIANTS) => unarySource(name, VARIANTS[name]);
const keys = <T extends object>(o: T) => Object.keys(o) as (keyof T)[];

const WHERE = kernel('where', 'function (c, a, b) { const i = this.thread.x; return c[i] != 0 ? a[i] : b[i]; }');

const CLAMP = kernel('clamp', 'function (xs, lo, hi) { const x = xs[this.thread.x]; return x < lo ? lo : (x > hi ? hi : x); }');

/** ±∞ bounds (clamp with only one side) as the largest finite float32, which every mode can pass. */
const finite = (v: number) => Math.max(-3.4028234663852886e38, Math.min(3.4028234663852886e38, v));

/**
 * The strided copy: output element t's coordinates (by the output shape, last axis fastest) times
 * the view's strides, plus its offset, is where it lives in the storage.
 */
const CONTIGUOUS = kernel(
  'contiguous',
  `function (x, shape, strides, rank, offset) {
    let rem = this.thread.x;
    let pos = offset;
    for (let k = 0; k < rank; k++) {
      const d = rank - 1 - k;
      const n = shape[d];
      ${divmod('q', 'c', 'rem', 'n')}
      pos = pos + c * strides[d];
      rem = q;
    }
    return x[pos];
  }`,
);

export const elementwiseKernels: KernelGroup = (rt) => {
  const one =
    (k: KernelSource) =>
    ([x]: readonly GpuBuf[], _a: unknown, out: Parameters<typeof launch>[2]) =>
      launch(rt, k, out, [x.data]);
  const two =
    (k: KernelSource) =>
    ([a, b]: readonly GpuBuf[], _a: unknown, out: Parameters<typeof launch>[2]) =>
      launch(rt, k, out, [a.data, b.data, Infinity]);
  const table: GpuKernels = {
    contiguous: ([x], { strides, offset }: KernelAttrs['contiguous'], out) =>
      launch(rt, CONTIGUOUS, out, [x.data, hostArray(out.shape), hostArray(strides), out.shape.length, offset]),
    cast: ([x], _a, out) =>
      launch(rt, variant(out.dtype === 'int32' ? 'cast_int32' : out.dtype === 'bool' ? 'cast_bool' : 'copy'), out, [x.data]),
    gelu: ([x], { approximate }, out) => launch(rt, variant(`gelu_${approximate}`), out, [x.data]),
    clamp: ([x], { min, max }, out) => launch(rt, CLAMP, out, [x.data, finite(min), finite(max)]),
    where: ([c, a, b], _a, out) => launch(rt, WHERE, out, [c.data, a.data, b.data]),
  };
  for (const key of keys(UNARY)) table[key] = one(unarySource(key, UNARY[key]));
  for (const key of keys(BINARY)) table[key] = two(binarySource(key, BINARY[key]));
  return table;
};
