// The contract between core and every backend: the kernel keys with their attributes and aux outputs
// (declared beside each op, merged here), and the shape of a kernel function. A backend is a plain
// object with one function per key (see kernels/cpu). Kernels see only buffers, shapes and dtypes.

import type { DType, TypedArray } from './dtype.js';
import type { Shape } from './shape.js';

/** A contiguous, row-major buffer: `data` is the backend's handle (a typed array on the CPU). */
export interface Buf<H = unknown> {
  readonly data: H;
  readonly shape: Shape;
  readonly dtype: DType;
}

/** What the op layer has already inferred and validated about the kernel's output. */
export interface OutSpec {
  readonly shape: Shape;
  readonly dtype: DType;
  /**
   * The aux outputs' specs, by the op's aux shape rules (see KernelAux); present when the op has any.
   * A kernel may ignore them; one that allocates before it runs (the GPU's CPU fallback) reads them.
   */
  readonly aux?: Readonly<Record<string, OutSpec>>;
}

/** The attributes of a kernel that takes none. */
export type NoAttrs = Record<string, never>;

/**
 * Every kernel key with its attributes: the contract's list of names. It is declared empty here and
 * filled beside each op — core/ops/rms_norm.ts adds `rmsNorm` and `rmsNormBackward` with a
 * `declare module '../kernel_types.js'` block — so an op, its kernel key and its attributes are read
 * (and added) in one file, and TypeScript merges the blocks into this one interface. A key missing
 * from a backend table, or a misspelt one, is a compile error; the CPU table (kernels/cpu/index.ts)
 * is the full list to read. Inputs arrive in the order the op lists them, already contiguous,
 * already broadcast to a common shape for elementwise kernels, already type-checked.
 */
export interface KernelAttrs {}

/**
 * The aux outputs of the kernels that have them (key → their names), declared beside the op as
 * KernelAttrs is: `rmsNorm: 'rstd'`. The op gives each one a shape rule (`aux` in core/op.ts) and may
 * `save` exactly these names; the rules reach the kernel as `out.aux`, which is how the GPU's CPU
 * fallback sizes them before the host work runs.
 */
export interface KernelAux {}

export type KernelName = keyof KernelAttrs;

/** The keys of the kernels that take no attributes (most elementwise maps). */
export type NoAttrKernel = { [K in KernelName]: KernelAttrs[K] extends NoAttrs ? K : never }[KernelName];

/** The aux output names of kernel K (never, for a kernel without aux outputs). */
export type AuxName<K extends KernelName> = K extends keyof KernelAux ? KernelAux[K] & string : never;

/** A kernel's result when it also produces auxiliary buffers for the backward (e.g. a row logsumexp). */
export interface KernelOutput<H = unknown> {
  readonly out: Buf<H>;
  readonly aux: Readonly<Record<string, Buf<H>>>;
}

/** A kernel: contiguous inputs in op order, attributes, the output spec; returns the output buffer. */
export type Kernel<H, A> = (inputs: readonly Buf<H>[], attrs: A, out: OutSpec) => Buf<H> | KernelOutput<H>;

/** A complete kernel table: a missing key is a compile error. */
export type KernelTable<H> = { [K in KernelName]: Kernel<H, KernelAttrs[K]> };

/**
 * Device memory that a backend frees deterministically rather than leaving to the garbage collector
 * (the GPU backend; the CPU backend has none). core/memory.ts wraps it as `dispose`/`scope`/`keep`.
 */
export interface BackendMemory<H = unknown> {
  /** Release a handle's memory now (idempotent); using it afterwards is an error. */
  dispose(data: H): void;
  beginScope(): void;
  /** Release what was made since the matching beginScope, except `keep` (which joins the enclosing scope). */
  endScope(keep: ReadonlySet<unknown>): void;
  /** Exempt a handle from the scope it was made in. */
  keep(data: H): void;
  stats(): MemoryStats;
}

/** Live device buffers and bytes, and running totals of buffers made, disposed, and freed by the GC backstop. */
export interface MemoryStats {
  buffers: number;
  bytes: number;
  allocated: number;
  disposed: number;
  finalized: number;
}

/**
 * A backend: where storage lives and how kernels run on it. Ops return tensors at once; a backend
 * may run kernels asynchronously, so only reading (`read`) is async. `readSync` exists where the
 * backend can answer synchronously.
 */
export interface Backend<H = unknown> {
  readonly name: string;
  readonly kernels: KernelTable<H>;
  /** Host data in, device handle out (the only upload path). The array is not retained by the caller. */
  upload(data: TypedArray, dtype: DType): H;
  /** A contiguous buffer back to the host, as a fresh typed array. */
  read(buf: Buf<H>): Promise<TypedArray>;
  readSync?(buf: Buf<H>): TypedArray;
  /** Number of elements the handle holds. */
  length(data: H): number;
  /** Present where memory is freed deterministically (see BackendMemory). */
  memory?: BackendMemory<H>;
  /** Resolves once every kernel issued so far has finished (for timing an asynchronous backend). */
  sync?(): Promise<void>;
  /** Run-time settings the backend offers, typed on the backend itself (cpu: threads and ts/wasm kernels). */
  readonly settings?: object;
}
