// The Tensor: a strided view (shape, strides, offset) over backend storage, plus its place in the
// autograd graph. Methods are one-line delegations to the functional ops in core/ops, named as in
// PyTorch. Reading values is the only async step (`await t.data()`), so async backends fit.

import { backward, type BackwardOptions } from './autograd.js';
import { allocArray, castScalar, isFloating, type DType, type TypedArray } from './dtype.js';
import type { Backend, Buf } from './kernel_types.js';
import type { Node } from './op.js';
import * as ops from './ops/index.js';
import { contiguousStrides, fmt, isContiguous, sizeOf, type Shape } from './shape.js';

/** The memory a tensor views: a backend handle of one dtype. Several tensors may share it. */
export interface Storage {
  readonly backend: Backend<any>;
  readonly data: unknown;
  readonly dtype: DType;
}

/** A number is broadcast as a 0-d tensor of the other operand's dtype. */
export type TensorLike = Tensor | number;
type Axes = number | readonly number[];

export class Tensor {
  readonly shape: number[];
  readonly strides: number[];
  readonly offset: number;
  readonly storage: Storage;
  /** Accumulated gradient (leaves and retainGrad() tensors), filled by backward(). */
  grad: Tensor | null = null;
  /** The op application that produced this tensor; null for leaves. */
  node: Node | null = null;
  #requiresGrad = false;
  #retainGrad = false;

  constructor(storage: Storage, shape: Shape, strides?: readonly number[], offset = 0) {
    this.storage = storage;
    this.shape = Object.freeze([...shape]) as number[];
    this.strides = Object.freeze([...(strides ?? contiguousStrides(shape))]) as number[];
    this.offset = offset;
  }

  /** Wrap a kernel's output buffer (contiguous, offset 0). */
  static fromBuf(backend: Backend<any>, buf: Buf): Tensor {
    return new Tensor({ backend, data: buf.data, dtype: buf.dtype }, buf.shape);
  }

  /** Upload a host array as a contiguous tensor. */
  static fromArray(backend: Backend<any>, data: TypedArray, dtype: DType, shape: Shape): Tensor {
    if (data.length !== sizeOf(shape)) {
      throw new Error(`tensor: ${data.length} values cannot have shape ${fmt(shape)}`);
    }
    return new Tensor({ backend, data: backend.upload(data, dtype), dtype }, shape);
  }

  get dtype(): DType {
    return this.storage.dtype;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** The backend's name, e.g. 'cpu'. */
  get device(): string {
    return this.storage.backend.name;
  }

  numel(): number {
    return sizeOf(this.shape);
  }

  isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }

  // ---- autograd ----

  /** True for graph outputs of differentiable ops on such inputs, and for leaves marked so. */
  get requiresGrad(): boolean {
    return this.node !== null || this.#requiresGrad;
  }

  set requiresGrad(on: boolean) {
    if (this.node !== null) {
      throw new Error('requiresGrad: can only be set on a leaf tensor; use .detach() to make one');
    }
    if (on && !isFloating(this.dtype)) {
      throw new Error(`requiresGrad: only floating tensors can require gradients, got ${this.dtype}`);
    }
    this.#requiresGrad = on;
  }

  requiresGrad_(on = true): this {
    this.requiresGrad = on;
    return this;
  }

  get isLeaf(): boolean {
    return this.node === null;
  }

  /** Keep this non-leaf's gradient in `.grad` during backward. */
  retainGrad(): this {
    this.#retainGrad = true;
    return this;
  }

  get retainsGrad(): boolean {
    return this.#retainGrad || this.node === null;
  }

  /** Accumulate d(this)/d(leaves) into every leaf's `.grad`; `grad` is required unless this has one element. */
  backward(grad?: Tensor, opts?: BackwardOptions): void {
    backward(this, grad, opts);
  }

  zeroGrad(): void {
    this.grad = null;
  }

  /** A new leaf sharing this storage, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, this.strides, this.offset);
  }

  // ---- reading values: the only async step ----

  /** This tensor as a contiguous kernel buffer (no copy when it already is one). */
  toBuf(): Buf {
    const { backend, data, dtype } = this.storage;
    if (this.offset === 0 && this.isContiguous() && backend.length(data) === this.numel()) {
      return { data, shape: this.shape, dtype };
    }
    const strided = { data, shape: this.shape, dtype };
    const r = backend.kernels.contiguous([strided], { strides: this.strides, offset: this.offset }, { shape: this.shape, dtype });
    return 'aux' in r ? r.out : r;
  }

  /** Release a buffer that toBuf() made for this view (a no-op when it is the tensor's own storage). */
  releaseBuf(buf: Buf): void {
    if (buf.data !== this.storage.data) this.storage.backend.memory?.dispose(buf.data);
  }

  /**
   * Free this tensor's device memory now, on backends that manage it (the GPU); a no-op on the CPU.
   * The storage is shared by every view of it, which all become unusable.
   */
  dispose(): void {
    this.storage.backend.memory?.dispose(this.storage.data);
  }

  /** The values, row-major, as a fresh typed array. */
  async data(): Promise<TypedArray> {
    const buf = this.toBuf();
    try {
      return await this.storage.backend.read(buf);
    } finally {
      this.releaseBuf(buf);
    }
  }

  /** The values synchronously, where the backend can (the CPU backend always can). */
  dataSync(): TypedArray {
    const b = this.storage.backend;
    if (!b.readSync) throw new Error(`dataSync: backend '${b.name}' reads asynchronously; use await t.data()`);
    const buf = this.toBuf();
    try {
      return b.readSync(buf);
    } finally {
      this.releaseBuf(buf);
    }
  }

  async item(): Promise<number> {
    return itemOf(this, await this.data());
  }

  itemSync(): number {
    return itemOf(this, this.dataSync());
  }

  /** Nested arrays (a number for a 0-d tensor). */
  async toArray(): Promise<NestedArray> {
    return nest(Array.from(await this.data()), this.shape);
  }

  toArraySync(): NestedArray {
    return nest(Array.from(this.dataSync()), this.shape);
  }

  toString(): string {
    const b = this.storage.backend;
    const values = b.readSync ? JSON.stringify(this.toArraySync()) : '…';
    return `tensor(${values}, shape=${fmt(this.shape)}, dtype=${this.dtype}, device=${b.name})`;
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

export type NestedArray = number | NestedArray[];

/** `reshape(2, 3)` and `reshape([2, 3])` both work, as in PyTorch. */
type ShapeArgs = number[] | [readonly number[]];

function shapeArgs(args: ShapeArgs): number[] {
  return args.length === 1 && Array.isArray(args[0]) ? [...args[0]] : (args as number[]);
}

function itemOf(t: Tensor, data: TypedArray): number {
  if (data.length !== 1) throw new Error(`item: expected a tensor with one element, got shape ${fmt(t.shape)}`);
  return data[0];
}

function nest(flat: number[], shape: Shape): NestedArray {
  if (shape.length === 0) return flat[0];
  const [n, ...rest] = shape;
  const step = sizeOf(rest);
  return Array.from({ length: n! }, (_, i) => nest(flat.slice(i * step, (i + 1) * step), rest));
}

/** A 0-d tensor holding `v` — how numbers enter binary ops. */
export function scalarTensor(op: string, v: number, dtype: DType, backend: Backend<any>): Tensor {
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
