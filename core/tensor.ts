// The Tensor: TensorBase (storage view, autograd state, reading values; core/tensor_base.ts) plus the
// methods, one-line delegations to the functional ops in core/ops, named as in PyTorch (x.add(y),
// x.sum(-1, true), x.reshape(2, 3)).

import { allocArray, arrayCtorOf, castScalar, isStorageDtype, storageLength, type DType, type TypedArray } from './dtype.js';
import type { Backend, Buf } from './kernel_types.js';
import * as ops from './ops/index.js';
import { fmt, type Shape } from './shape.js';
import { TensorBase } from './tensor_base.js';

export type { NestedArray, Storage } from './tensor_base.js';

/** A number is broadcast as a 0-d tensor of the other operand's dtype. */
export type TensorLike = Tensor | number;
type Axes = number | readonly number[];

export class Tensor extends TensorBase {
  /** Wrap a kernel's output buffer (contiguous, offset 0). */
  static fromBuf(backend: Backend<any>, buf: Buf): Tensor {
    return new Tensor({ backend, data: buf.data, dtype: buf.dtype }, buf.shape);
  }

  /**
   * Upload a host array as a contiguous tensor. A storage dtype's array holds what it stores: bfloat16/float16
   * bit patterns (a Uint16Array, one per element), q8_0/q4_0 block bytes (a Uint8Array, 34/18 per 32 elements).
   */
  static fromArray(backend: Backend<any>, data: TypedArray, dtype: DType, shape: Shape): Tensor {
    const need = storageLength(dtype, shape);
    if (data.length !== need) {
      const what = dtype === 'q8_0' || dtype === 'q4_0' ? `${need} bytes of ${dtype} blocks` : `${need} values`;
      throw new Error(`tensor: ${data.length} values cannot have shape ${fmt(shape)} (a ${dtype} tensor of it takes ${what})`);
    }
    if (isStorageDtype(dtype) && !(data instanceof arrayCtorOf(dtype)))
      throw new Error(`tensor: a ${dtype} tensor is held in a ${arrayCtorOf(dtype).name}, got a ${data.constructor.name}`);
    return new Tensor({ backend, data: backend.upload(data, dtype), dtype }, shape);
  }

  /**
   * A tensor with a shape and dtype but no storage: what a model built with `init: 'empty'` holds until its
   * weights are loaded (an 8B model's random float32 weights alone would take 32 GB). Reading it, or any
   * op that runs a kernel on it, fails naming it a placeholder.
   */
  static placeholder(backend: Backend<any>, dtype: DType, shape: Shape): Tensor {
    return new Tensor({ backend, data: null, dtype }, shape);
  }

  /** Whether this is a placeholder without storage (see `placeholder`). */
  get isPlaceholder(): boolean {
    return this.storage.data === null;
  }

  /** A new leaf sharing this storage, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, this.strides, this.offset);
  }

  // ---- dtype ----
  to(dtype: DType): Tensor {
    return ops.cast(this, dtype);
  }
  clone(): Tensor {
    return ops.clone(this);
  }
  contiguous(): Tensor {
    return ops.contiguous(this);
  }

  // ---- elementwise ----
  neg(): Tensor {
    return ops.neg(this);
  }
  abs(): Tensor {
    return ops.abs(this);
  }
  sign(): Tensor {
    return ops.sign(this);
  }
  exp(): Tensor {
    return ops.exp(this);
  }
  log(): Tensor {
    return ops.log(this);
  }
  sqrt(): Tensor {
    return ops.sqrt(this);
  }
  rsqrt(): Tensor {
    return ops.rsqrt(this);
  }
  sin(): Tensor {
    return ops.sin(this);
  }
  cos(): Tensor {
    return ops.cos(this);
  }
  tanh(): Tensor {
    return ops.tanh(this);
  }
  sigmoid(): Tensor {
    return ops.sigmoid(this);
  }
  relu(): Tensor {
    return ops.relu(this);
  }
  silu(): Tensor {
    return ops.silu(this);
  }
  gelu(approximate: 'none' | 'tanh' = 'none'): Tensor {
    return ops.gelu(this, approximate);
  }
  erf(): Tensor {
    return ops.erf(this);
  }
  square(): Tensor {
    return ops.square(this);
  }
  reciprocal(): Tensor {
    return ops.reciprocal(this);
  }
  clamp(min: number | null, max: number | null = null): Tensor {
    return ops.clamp(this, min, max);
  }
  add(b: TensorLike): Tensor {
    return ops.add(this, b);
  }
  sub(b: TensorLike): Tensor {
    return ops.sub(this, b);
  }
  mul(b: TensorLike): Tensor {
    return ops.mul(this, b);
  }
  div(b: TensorLike): Tensor {
    return ops.div(this, b);
  }
  pow(b: TensorLike): Tensor {
    return ops.pow(this, b);
  }
  maximum(b: TensorLike): Tensor {
    return ops.maximum(this, b);
  }
  minimum(b: TensorLike): Tensor {
    return ops.minimum(this, b);
  }
  eq(b: TensorLike): Tensor {
    return ops.eq(this, b);
  }
  ne(b: TensorLike): Tensor {
    return ops.ne(this, b);
  }
  lt(b: TensorLike): Tensor {
    return ops.lt(this, b);
  }
  le(b: TensorLike): Tensor {
    return ops.le(this, b);
  }
  gt(b: TensorLike): Tensor {
    return ops.gt(this, b);
  }
  ge(b: TensorLike): Tensor {
    return ops.ge(this, b);
  }
  logicalAnd(b: Tensor): Tensor {
    return ops.logicalAnd(this, b);
  }
  logicalOr(b: Tensor): Tensor {
    return ops.logicalOr(this, b);
  }
  logicalNot(): Tensor {
    return ops.logicalNot(this);
  }
  maskedFill(mask: Tensor, value: number): Tensor {
    return ops.maskedFill(this, mask, value);
  }

  // ---- reductions (axis may be negative or a list; omitted = all axes) ----
  sum(axis?: Axes, keepdim = false): Tensor {
    return ops.sum(this, axis, keepdim);
  }
  mean(axis?: Axes, keepdim = false): Tensor {
    return ops.mean(this, axis, keepdim);
  }
  max(axis?: Axes, keepdim = false): Tensor {
    return ops.max(this, axis, keepdim);
  }
  min(axis?: Axes, keepdim = false): Tensor {
    return ops.min(this, axis, keepdim);
  }
  argmax(axis?: number, keepdim = false): Tensor {
    return ops.argmax(this, axis, keepdim);
  }
  argmin(axis?: number, keepdim = false): Tensor {
    return ops.argmin(this, axis, keepdim);
  }
  logsumexp(axis?: Axes, keepdim = false): Tensor {
    return ops.logsumexp(this, axis, keepdim);
  }
  var(axis?: Axes, keepdim = false, correction = 1): Tensor {
    return ops.variance(this, axis, keepdim, correction);
  }
  norm(axis?: Axes, keepdim = false): Tensor {
    return ops.norm(this, axis, keepdim);
  }
  cumsum(axis: number): Tensor {
    return ops.cumsum(this, axis);
  }
  softmax(axis: number): Tensor {
    return ops.softmax(this, axis);
  }
  logSoftmax(axis: number): Tensor {
    return ops.logSoftmax(this, axis);
  }

  // ---- linear algebra ----
  matmul(b: Tensor): Tensor {
    return ops.matmul(this, b);
  }
  /** The matrix transpose of the last two axes (a view). */
  get mT(): Tensor {
    return ops.transpose(this, -2, -1);
  }

  // ---- views: no copy; gradients flow through ----
  reshape(...shape: ShapeArgs): Tensor {
    return ops.reshape(this, shapeArgs(shape));
  }
  view(...shape: ShapeArgs): Tensor {
    return ops.view(this, shapeArgs(shape));
  }
  permute(...dims: ShapeArgs): Tensor {
    return ops.permute(this, shapeArgs(dims));
  }
  transpose(a: number, b: number): Tensor {
    return ops.transpose(this, a, b);
  }
  expand(...shape: ShapeArgs): Tensor {
    return ops.expand(this, shapeArgs(shape));
  }
  expandAs(other: Tensor): Tensor {
    return ops.expand(this, other.shape);
  }
  narrow(axis: number, start: number, length: number): Tensor {
    return ops.narrow(this, axis, start, length);
  }
  slice(axis: number, start?: number, end?: number): Tensor {
    return ops.slice(this, axis, start, end);
  }
  select(axis: number, index: number): Tensor {
    return ops.select(this, axis, index);
  }
  squeeze(axis?: number): Tensor {
    return ops.squeeze(this, axis);
  }
  unsqueeze(axis: number): Tensor {
    return ops.unsqueeze(this, axis);
  }
  flatten(start = 0, end = -1): Tensor {
    return ops.flatten(this, start, end);
  }
  split(sizes: number | readonly number[], axis = 0): Tensor[] {
    return ops.split(this, sizes, axis);
  }
  chunk(n: number, axis = 0): Tensor[] {
    return ops.chunk(this, n, axis);
  }

  // ---- indexing ----
  gather(axis: number, index: Tensor): Tensor {
    return ops.gather(this, axis, index);
  }
  scatterAdd(axis: number, index: Tensor, src: Tensor): Tensor {
    return ops.scatterAdd(this, axis, index, src);
  }
  indexSelect(axis: number, index: Tensor): Tensor {
    return ops.indexSelect(this, axis, index);
  }
  indexAdd(axis: number, index: Tensor, src: Tensor): Tensor {
    return ops.indexAdd(this, axis, index, src);
  }
  topk(k: number, axis = -1, largest = true): { values: Tensor; indices: Tensor } {
    return ops.topk(this, k, axis, largest);
  }
  sort(axis = -1, descending = false): { values: Tensor; indices: Tensor } {
    return ops.sort(this, axis, descending);
  }
  argsort(axis = -1, descending = false): Tensor {
    return ops.argsort(this, axis, descending);
  }
  tril(k = 0): Tensor {
    return ops.tril(this, k);
  }
  triu(k = 0): Tensor {
    return ops.triu(this, k);
  }
}

/** `reshape(2, 3)` and `reshape([2, 3])` both work, as in PyTorch. */
type ShapeArgs = number[] | [readonly number[]];

function shapeArgs(args: ShapeArgs): number[] {
  return args.length === 1 && Array.isArray(args[0]) ? [...args[0]] : (args as number[]);
}

/** A 0-d tensor holding `v` — how numbers enter binary ops. */
export function scalarTensor(op: string, v: number, dtype: DType, backend: Backend<any>): Tensor {
  if (isStorageDtype(dtype)) {
    throw new Error(
      `${op}: a ${dtype} tensor cannot meet the number ${v}: ${dtype} is a storage dtype this op does not take; convert it with .to('float32') first`,
    );
  }
  if (dtype === 'int32' && !Number.isInteger(v)) {
    throw new Error(`${op}: an int32 tensor cannot be combined with the non-integer ${v}; cast it with .to('float32')`);
  }
  const data = allocArray(dtype, 1);
  data[0] = castScalar(dtype, v);
  return Tensor.fromArray(backend, data, dtype, []);
}

/** A 0-d tensor holding `v` in `like`'s dtype, on `like`'s backend. */
export function scalarLike(op: string, v: number, like: Tensor): Tensor {
  return scalarTensor(op, v, like.dtype, like.storage.backend);
}
