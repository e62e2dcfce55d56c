// The contract between core and every backend: the list of kernel keys, their attributes, and the
// shape of a kernel function. A backend is a plain object with one function per key (see kernels/cpu).
// Kernels see only buffers, shapes and dtypes — never a Tensor, never autograd.

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
}

type None = Record<string, never>;
type Axis = { axis: number };
export type AttentionAttrs = { causal: boolean; scale: number; offset: number; hasMask: boolean };

/**
 * Every kernel key with its attributes. Inputs arrive in the order the op lists them, already
 * contiguous, already broadcast to a common shape for elementwise kernels, already type-checked.
 */
export interface KernelAttrs {
  /** The one kernel that reads a strided input: inputs[0].data is the whole storage. */
  contiguous: { strides: readonly number[]; offset: number };
  cast: None;
  // unary elementwise: out[i] = f(x[i])
  neg: None;
  abs: None;
  sign: None;
  exp: None;
  log: None;
  sqrt: None;
  rsqrt: None;
  sin: None;
  cos: None;
  tanh: None;
  sigmoid: None;
  relu: None;
  silu: None;
  gelu: { approximate: 'none' | 'tanh' };
  erf: None;
  square: None;
  reciprocal: None;
  clamp: { min: number; max: number };
  // binary elementwise over equal shapes: out[i] = f(a[i], b[i])
  add: None;
  sub: None;
  mul: None;
  div: None;
  pow: None;
  maximum: None;
  minimum: None;
  eq: None;
  ne: None;
  lt: None;
  le: None;
  gt: None;
  ge: None;
  logicalAnd: None;
  logicalOr: None;
  logicalNot: None;
  /** out[i] = cond[i] ? a[i] : b[i] */
  where: None;
  // single-axis reductions and scans: the input is viewed as [outer, size, inner]
  sum: Axis;
  max: Axis;
  min: Axis;
  argmax: Axis;
  argmin: Axis;
  cumsum: Axis & { reverse: boolean };
  softmax: Axis;
  logSoftmax: Axis;
  /** Stable sort order along an axis (ties keep the lower index first). */
  argsort: Axis & { descending: boolean };
  // linear algebra: a [...batchA, M, K] (or [..., K, M] when transA) times b [...batchB, K, N]
  // (or [..., N, K] when transB); batch dims broadcast.
  matmul: { transA: boolean; transB: boolean };
  /**
   * y = act(x·wᵀ + b) + residual: x [..., in], w [out, in], then b [out] and residual [..., out] when
   * flagged. With an activation, aux `pre` holds x·wᵀ + b (what the backward needs).
   */
  linear: { activation: 'none' | 'silu' | 'gelu' | 'gelu_tanh'; hasBias: boolean; hasResidual: boolean };
  // fused transformer ops (each op in core/ops carries the unfused reference it is tested against)
  /** y = w·x/√(mean(x²) + eps) over the last axis; aux `rstd` [rows]. */
  rmsNorm: { eps: number };
  /** inputs x, w, rstd, dy → [dx (x.size) | dw (C)] packed in one buffer. */
  rmsNormBackward: Record<string, never>;
  /** Half-split rotation of x [B, NH, T, HS] by cos/sin [T, HS] or [B, T, HS]; `inverse` rotates back. */
  rope: { inverse: boolean };
  /** silu(gate)·up. */
  swiglu: Record<string, never>;
  /** inputs gate, up, dy → [dgate | dup] packed. */
  swigluBackward: Record<string, never>;
  /** Row-wise cross-entropy of logits [N, V] with int32 targets [N], one streaming pass per row; aux `lse` [N], `count` []. */
  crossEntropy: { ignoreIndex: number; reduction: 'mean' | 'sum' | 'none' };
  /** inputs logits, targets, lse, count, dy → dlogits [N, V]. */
  crossEntropyBackward: { ignoreIndex: number; reduction: 'mean' | 'sum' | 'none' };
  /**
   * Flash attention over q [B, NH, Tq, HS], k and v [B, KVH, Tk, HS] (query head h reads kv head
   * h / (NH/KVH)), then an additive mask [B|1, NH|1, Tq|1, Tk] when `hasMask`. Query i sits at position
   * offset + i; `causal` allows keys j ≤ offset + i. Output [B, NH, Tq, HS]; aux `lse` [B, NH, Tq].
   */
  attention: AttentionAttrs;
  /** inputs q, k, v, out, lse, dout (, mask) → [dq | dk | dv] packed. */
  attentionBackward: AttentionAttrs;
  /**
   * Mixture-of-experts SwiGLU over inputs x [N, H], weights [N, K], indices [N, K] (int32), stacked
   * expert weights gate and up [E, I, H] and down [E, H, I]: y[n] = Σ_j weights[n, j]·expert_{indices[n, j]}(x[n]).
   * At most `capacity` assignments per expert (−1: no limit). Aux: `plan` (int32), `G`, `U`, `Y`.
   */
  moe: { capacity: number };
  /** inputs x, weights, gate, up, down, plan, G, U, Y, dy → [dx | dweights | dgate | dup | ddown] packed. */
  moeBackward: Record<string, never>;
  /** In place on inputs p, g, m, v (decoupled weight decay, bias-corrected moments); returns p. */
  adamw: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; step: number };
  // indexing; index buffers are int32
  gather: Axis;
  scatterAdd: Axis;
  indexSelect: Axis;
  indexAdd: Axis;
  cat: Axis;
}

export type KernelName = keyof KernelAttrs;

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
