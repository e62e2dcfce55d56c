// Creating tensors: from nested arrays or typed arrays, constant fills, ranges, the identity, and
// seeded random draws. Every creator takes `{ dtype, requiresGrad }`; data is made on the host and
// enters the current backend through its one upload path.

import { getBackend } from './backend.js';
import { allocArray, arrayFrom, castScalar, dtypeOfArray, isFloating, type DType, type TypedArray } from './dtype.js';
import type { Backend } from './kernel_types.js';
import { defaultGenerator, type Generator } from './random.js';
import { checkShape, fmt, sizeOf, type Shape } from './shape.js';
import { Tensor, type NestedArray } from './tensor.js';

export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
  /** Where the tensor lives; default: the current backend (see setBackend). */
  backend?: Backend<any>;
}

export interface RandomOptions extends CreateOptions {
  generator?: Generator;
}

type Nested = number | boolean | readonly Nested[];

function make(data: TypedArray, dtype: DType, shape: Shape, opts: CreateOptions): Tensor {
  const t = Tensor.fromArray(opts.backend ?? getBackend(), data, dtype, shape);
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

/**
 * A tensor from nested arrays, a typed array (1-D, or `shape` given), or a number (0-d).
 * The dtype defaults to the typed array's, `bool` for booleans, and float32 for numbers.
 */
export function tensor(data: Nested | TypedArray, opts: CreateOptions & { shape?: Shape } = {}): Tensor {
  if (ArrayBuffer.isView(data)) {
    const src = data as TypedArray;
    const dtype = opts.dtype ?? dtypeOfArray(src);
    const shape = checkShape('tensor', opts.shape ?? [src.length]);
    if (sizeOf(shape) !== src.length) throw new Error(`tensor: ${src.length} values cannot have shape ${fmt(shape)}`);
    return make(arrayFrom(dtype, src), dtype, shape, opts);
  }
  const shape = inferShape(data);
  const flat: number[] = [];
  let sawBool = false;
  flatten(data, shape, 0, flat, (b) => (sawBool ||= b));
  const dtype = opts.dtype ?? (sawBool ? 'bool' : 'float32');
  if (opts.shape && sizeOf(opts.shape) !== flat.length) {
    throw new Error(`tensor: ${flat.length} values cannot have shape ${fmt(opts.shape)}`);
  }
  return make(arrayFrom(dtype, flat), dtype, opts.shape ?? shape, opts);
}

function inferShape(data: Nested): number[] {
  const shape: number[] = [];
  let d: Nested = data;
  while (Array.isArray(d)) {
    shape.push(d.length);
    if (d.length === 0) break;
    d = d[0];
  }
  return shape;
}

function flatten(d: Nested, shape: number[], depth: number, out: number[], noteBool: (b: boolean) => void): void {
  if (depth === shape.length) {
    if (Array.isArray(d)) throw new Error(`tensor: ragged nested array (too deep at depth ${depth})`);
    if (typeof d === 'boolean') noteBool(true);
    else if (typeof d !== 'number') throw new Error(`tensor: expected numbers or booleans, got ${typeof d}`);
    out.push(Number(d));
    return;
  }
  if (!Array.isArray(d) || d.length !== shape[depth]) {
    throw new Error(`tensor: ragged nested array: expected length ${shape[depth]} at depth ${depth}`);
  }
  for (const x of d as readonly Nested[]) flatten(x, shape, depth + 1, out, noteBool);
}

export function full(shape: Shape, value: number, opts: CreateOptions = {}): Tensor {
  const s = checkShape('full', shape);
  const dtype = opts.dtype ?? 'float32';
  return make(allocArray(dtype, sizeOf(s)).fill(castScalar(dtype, value)), dtype, s, opts);
}

export function zeros(shape: Shape, opts: CreateOptions = {}): Tensor {
  return full(shape, 0, opts);
}

export function ones(shape: Shape, opts: CreateOptions = {}): Tensor {
  return full(shape, 1, opts);
}

/**
 * `arange(end)` or `arange(start, end, step)`: [start, end) by step. int32 when all arguments are
 * integers (as PyTorch gives int64), float32 otherwise, unless `dtype` says.
 */
export function arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
  const [lo, hi] = end === undefined ? [0, start] : [start, end];
  if (step === 0 || !Number.isFinite(lo) || !Number.isFinite(hi) || !Number.isFinite(step)) {
    throw new Error(`arange: bad range start=${lo} end=${hi} step=${step}`);
  }
  const n = Math.max(0, Math.ceil((hi - lo) / step));
  const dtype = opts.dtype ?? ([lo, hi, step].every(Number.isInteger) ? 'int32' : 'float32');
  const data = allocArray(dtype, n);
  for (let i = 0; i < n; i++) data[i] = lo + i * step;
  return make(data, dtype, [n], opts);
}

/** The n×m identity (m defaults to n). */
export function eye(n: number, m = n, opts: CreateOptions = {}): Tensor {
  const s = checkShape('eye', [n, m]);
  const dtype = opts.dtype ?? 'float32';
  const data = allocArray(dtype, n * m);
  for (let i = 0; i < Math.min(n, m); i++) data[i * m + i] = 1;
  return make(data, dtype, s, opts);
}

function floatDtype(op: string, opts: CreateOptions): 'float32' | 'float64' {
  const dtype = opts.dtype ?? 'float32';
  if (!isFloating(dtype)) throw new Error(`${op}: dtype must be float32 or float64, got ${dtype}`);
  return dtype;
}

/** Uniform in [0, 1). */
export function rand(shape: Shape, opts: RandomOptions = {}): Tensor {
  const s = checkShape('rand', shape);
  const dtype = floatDtype('rand', opts);
  const g = opts.generator ?? defaultGenerator();
  const data = allocArray(dtype, sizeOf(s));
  for (let i = 0; i < data.length; i++) data[i] = dtype === 'float32' ? g.nextFloat32() : g.nextFloat64();
  return make(data, dtype, s, opts);
}

/** Standard normal. */
export function randn(shape: Shape, opts: RandomOptions = {}): Tensor {
  const s = checkShape('randn', shape);
  const dtype = floatDtype('randn', opts);
  const g = opts.generator ?? defaultGenerator();
  const data = allocArray(dtype, sizeOf(s));
  for (let i = 0; i < data.length; i += 2) {
    const [z0, z1] = g.nextNormalPair();
    data[i] = z0;
    if (i + 1 < data.length) data[i + 1] = z1;
  }
  return make(data, dtype, s, opts);
}

/** Uniform integers in [low, high), int32 by default. */
export function randint(low: number, high: number, shape: Shape, opts: RandomOptions = {}): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new Error(`randint: need integers low < high, got ${low} and ${high}`);
  }
  const s = checkShape('randint', shape);
  const dtype = opts.dtype ?? 'int32';
  const g = opts.generator ?? defaultGenerator();
  const data = allocArray(dtype, sizeOf(s));
  for (let i = 0; i < data.length; i++) data[i] = low + g.nextInt(high - low);
  return make(data, dtype, s, opts);
}

/** `*Like` creators copy shape, dtype and backend from `t` (options override). */
const like = (t: Tensor, opts: CreateOptions) => ({ dtype: t.dtype, backend: t.storage.backend, ...opts });

export const zerosLike = (t: Tensor, opts: CreateOptions = {}) => zeros(t.shape, like(t, opts));
export const onesLike = (t: Tensor, opts: CreateOptions = {}) => ones(t.shape, like(t, opts));
export const fullLike = (t: Tensor, value: number, opts: CreateOptions = {}) => full(t.shape, value, like(t, opts));
export const randLike = (t: Tensor, opts: RandomOptions = {}) => rand(t.shape, like(t, opts));
export const randnLike = (t: Tensor, opts: RandomOptions = {}) => randn(t.shape, like(t, opts));

export type { NestedArray };
