// The part of a Tensor that is not an op: a strided view (shape, strides, offset) over backend storage,
// its place in the autograd graph, and reading values back (the only async step: `await t.data()`).
// core/tensor.ts extends it with the PyTorch-named op methods; split so each file holds one concept.

import { backward, type BackwardOptions } from './autograd.js';
import { isFloating, isStorageDtype, storageLength, storageOffset, type DType, type TypedArray } from './dtype.js';
import type { Backend, Buf } from './kernel_types.js';
import type { Node } from './op.js';
import { contiguousStrides, fmt, isContiguous, sizeOf, type Shape } from './shape.js';
import type { Tensor } from './tensor.js';

/**
 * The memory a tensor views: a backend handle of one dtype. Several tensors may share it. `data` is null
 * for a placeholder (Tensor.placeholder): a shape and dtype to load into, refused by every kernel.
 */
export interface Storage {
  readonly backend: Backend<any>;
  readonly data: unknown;
  readonly dtype: DType;
}

export abstract class TensorBase {
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
    if (on && isStorageDtype(this.dtype)) {
      throw new Error(
        `requiresGrad: a ${this.dtype} tensor is frozen (storage dtypes carry no gradient); train a .to('float32') copy instead`,
      );
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
    // Tensor is the only subclass; autograd works on the full Tensor.
    backward(this as unknown as Tensor, grad, opts);
  }

  zeroGrad(): void {
    this.grad = null;
  }

  // ---- reading values: the only async step ----

  /** This tensor as a contiguous kernel buffer (no copy when it already is one). */
  toBuf(): Buf {
    const { backend, data, dtype } = this.storage;
    if (data === null)
      throw new Error(
        `tensor ${fmt(this.shape)} ${dtype} is a placeholder without storage (a model built with init: 'empty'); load its weights first`,
      );
    if (isStorageDtype(dtype)) return this.storageBuf();
    if (this.offset === 0 && this.isContiguous() && backend.length(data) === this.numel()) {
      return { data, shape: this.shape, dtype };
    }
    const strided = { data, shape: this.shape, dtype };
    const r = backend.kernels.contiguous([strided], { strides: this.strides, offset: this.offset }, { shape: this.shape, dtype });
    return 'aux' in r ? r.out : r;
  }

  /**
   * A storage-dtype view as a buffer: the stored array itself, or a subarray of it for a contiguous range
   * (the rows of one expert, say). Only the CPU backend holds storage dtypes, so `data` is a typed array.
   * A strided view is refused: q8_0/q4_0 blocks cannot be gathered element by element.
   */
  private storageBuf(): Buf {
    const { data, dtype } = this.storage;
    if (!this.isContiguous())
      throw new Error(
        `${dtype}: a strided view ${fmt(this.shape)} (strides ${fmt(this.strides)}) cannot be read as stored; ` +
          `linear/matmul take the weight or its .mT, anything else needs .to('float32') first`,
      );
    const start = storageOffset(dtype, this.offset, 'toBuf');
    const length = storageLength(dtype, this.shape);
    const array = data as TypedArray;
    const view = start === 0 && length === array.length ? array : array.subarray(start, start + length);
    return { data: view, shape: this.shape, dtype };
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
    if (this.storage.data !== null) this.storage.backend.memory?.dispose(this.storage.data);
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

  // item/toArray give numbers: a storage dtype's values are decoded through float32 (data() gives the stored array).

  async item(): Promise<number> {
    return itemOf(this, await this.numbers().data());
  }

  itemSync(): number {
    return itemOf(this, this.numbers().dataSync());
  }

  /** Nested arrays (a number for a 0-d tensor). */
  async toArray(): Promise<NestedArray> {
    return nest(Array.from(await this.numbers().data()), this.shape);
  }

  toArraySync(): NestedArray {
    return nest(Array.from(this.numbers().dataSync()), this.shape);
  }

  /** This tensor, or its float32 conversion when it holds a storage dtype (bit patterns, block bytes). */
  private numbers(): TensorBase {
    return isStorageDtype(this.dtype) ? (this as unknown as Tensor).to('float32') : this;
  }

  toString(): string {
    const b = this.storage.backend;
    const values = b.readSync ? JSON.stringify(this.toArraySync()) : '…';
    return `tensor(${values}, shape=${fmt(this.shape)}, dtype=${this.dtype}, device=${b.name})`;
  }
}

export type NestedArray = number | NestedArray[];

function itemOf(t: TensorBase, data: TypedArray): number {
  if (data.length !== 1) throw new Error(`item: expected a tensor with one element, got shape ${fmt(t.shape)}`);
  return data[0];
}

function nest(flat: number[], shape: Shape): NestedArray {
  if (shape.length === 0) return flat[0];
  const [n, ...rest] = shape;
  const step = sizeOf(rest);
  return Array.from({ length: n! }, (_, i) => nest(flat.slice(i * step, (i + 1) * step), rest));
}
