// The op layer: the `Op` interface every differentiable operation implements, and `apply`, the one
// function that validates inputs, runs the kernel (or builds the view) and records the graph.
// Ops are declared in core/ops/*.ts; their backward is written in ops, one thunk per input.

import { isFloating, isStorageDtype, type DType } from './dtype.js';
import { isGradEnabled, noGrad } from './grad_mode.js';
import type { AuxName, Backend, Kernel, KernelAttrs, KernelName, OutSpec } from './kernel_types.js';
import { fmt, shapesEqual, type Shape } from './shape.js';
import { profiling, recordKernel } from './profile.js';
import { Tensor } from './tensor.js';

/** What backward receives: the tensors the op asked to `save` (inputs by name, 'out', aux outputs by name). */
export type Saved<I extends string, X extends string = string> = Record<I | 'out' | X, Tensor>;

/** What every op declares, however it computes (X: the names of the aux outputs it may save). */
interface OpBase<I extends string, A, X extends string> {
  /** The op's name, in errors; for a kernel op also its kernel key (see KernelOp). */
  readonly name: string;
  /** Input names, in the order the kernel receives them. Empty when `variadic` (e.g. cat). */
  readonly inputs: readonly I[];
  readonly variadic?: boolean;
  /**
   * The inputs that may hold a storage dtype (bfloat16, float16, q8_0, q4_0): linear's and matmul's weight,
   * the embedding table, cast's input. Any other input holding one is refused before the kernel runs.
   */
  readonly storageInputs?: readonly I[];
  /** Validate and infer the output shape; throws a clear error naming the op and the shapes. */
  shape(x: Record<I, Shape>, attrs: A): Shape;
  /** Output dtype; by default every input must share one dtype, which the output has. */
  dtype?(x: Record<I, DType>, attrs: A): DType;
  /** What backward needs: input names, 'out', and/or names of the kernel's aux outputs. Nothing else is kept alive. */
  readonly save?: readonly (I | 'out' | X)[];
  /** dy → one thunk per input, written in ops; only thunks of inputs that need a gradient run. */
  backward?(dy: Tensor, saved: Saved<I, X>, attrs: A, shapes: Record<I, Shape>): Partial<Record<I, () => Tensor>>;
  /** For fused ops: the unfused composition the fast path is tested against. */
  reference?(x: Record<I, Tensor>, attrs: A): Tensor;
}

/** An aux output's spec from the op's input shapes, attrs and output spec; null when the kernel does not make it for these attrs, or sizes it from the data (MoE's plan). */
export type AuxRule<I extends string, A> = (x: Record<I, Shape>, attrs: A, out: OutSpec) => OutSpec | null;

/**
 * An op computed by one kernel. Its name is the kernel's key (K, a key of KernelAttrs in
 * core/kernel_types.ts, declared beside the op): a misspelt name is a compile error, and `apply` looks
 * the kernel up by it. Its attrs A are the kernel's (or carry more, e.g. `keepdim`), and it may save
 * the aux outputs the contract declares for K, each with a shape rule.
 */
export type KernelOp<I extends string, K extends KernelName, A extends KernelAttrs[K] = KernelAttrs[K]> = OpBase<
  I,
  A,
  AuxName<K>
> & {
  readonly name: K;
  /** A shape rule for each aux output the contract declares for K (KernelAux); `apply` refuses an aux output without one. */
  readonly aux?: { readonly [N in AuxName<K>]: AuxRule<I, A> };
  readonly view?: undefined;
  readonly forward?: undefined;
};

/** A movement op: the output is a view (new strides/offset over the input's storage), no kernel. */
export interface ViewOp<I extends string = string, A = any> extends OpBase<I, A, never> {
  view(x: Tensor, attrs: A): { strides: number[]; offset: number };
  readonly forward?: undefined;
  readonly aux?: undefined;
}

/** An op whose forward is made of other ops (run without recording) but has its own backward. */
export interface ForwardOp<I extends string = string, A = any> extends OpBase<I, A, never> {
  forward(x: Record<I, Tensor>, attrs: A): Tensor;
  readonly view?: undefined;
  readonly aux?: undefined;
}

/** Any kernel op, its name and attrs no longer tied (what `apply` and the graph hold). */
interface AnyKernelOp<I extends string, A> extends OpBase<I, A, string> {
  readonly name: KernelName;
  readonly aux?: Readonly<Record<string, AuxRule<I, A>>>;
  readonly view?: undefined;
  readonly forward?: undefined;
}

/** Every op: one that runs a kernel, a view, or a composite forward with its own backward. */
export type Op<I extends string = string, A = any> = AnyKernelOp<I, A> | ViewOp<I, A> | ForwardOp<I, A>;

/** A recorded application of an op: what backward needs to send gradients to the inputs. */
export interface Node {
  readonly op: Op;
  readonly attrs: unknown;
  readonly names: readonly string[];
  readonly shapes: Record<string, Shape>;
  /** The inputs (graph edges) and saved tensors; both dropped once backward has used them. */
  inputs: Record<string, Tensor> | null;
  saved: Record<string, Tensor> | null;
}

/** Run `op` on `inputs`: validate, compute, and record the graph when an input requires grad. */
export function apply<I extends string, A>(op: Op<I, A>, inputs: Record<I, Tensor>, attrs: A): Tensor {
  const names = (op.variadic ? Object.keys(inputs) : op.inputs) as I[];
  const xs = names.map((n) => inputs[n]);
  const backend = commonBackend(op.name, xs);
  // Views only move shape and strides, so they take any dtype; the kernel that reads the view says whether it can.
  if (!op.view) refuseStorage(op, names, inputs);
  const shapes = record(names, (n) => inputs[n].shape as Shape);
  const shape = op.shape(shapes, attrs);
  const dtype = op.dtype
    ? op.dtype(
        record(names, (n) => inputs[n].dtype),
        attrs,
      )
    : sameDtype(op.name, names, inputs);
  const { out, aux } = run(op, inputs, xs, attrs, backend, shapes, shape, dtype);
  if (op.backward && isGradEnabled() && isFloating(dtype) && xs.some((x) => x.requiresGrad)) {
    const saved: Record<string, Tensor> = {};
    for (const s of op.save ?? []) saved[s] = s === 'out' ? out : s in aux ? aux[s]! : inputs[s as I];
    out.node = { op: op as Op, attrs, names, shapes, inputs: { ...inputs }, saved };
  }
  return out;
}

function run<I extends string, A>(
  op: Op<I, A>,
  inputs: Record<I, Tensor>,
  xs: Tensor[],
  attrs: A,
  backend: Backend<any>,
  shapes: Record<I, Shape>,
  shape: Shape,
  dtype: DType,
): { out: Tensor; aux: Record<string, Tensor> } {
  if (op.view) {
    const x = xs[0];
    const { strides, offset } = op.view(x, attrs);
    return { out: new Tensor(x.storage, shape, strides, offset), aux: {} };
  }
  if (op.forward) {
    const out = noGrad(() => op.forward!(inputs, attrs));
    if (!shapesEqual(out.shape, shape) || out.dtype !== dtype) {
      throw new Error(
        `${op.name}: internal error: forward gave ${fmt(out.shape)} ${out.dtype}, shape rule said ${fmt(shape)} ${dtype}`,
      );
    }
    // A fresh Tensor object even when forward returned an input as is: the node recorded below
    // must never overwrite another tensor's.
    return { out: out.detach(), aux: {} };
  }
  const kernel = kernelFor(backend, op.name);
  if (!kernel) throw new Error(`${op.name}: backend '${backend.name}' has no kernel '${op.name}'`);
  const spec: OutSpec = op.aux ? { shape, dtype, aux: auxSpecs(op.aux, shapes, attrs, { shape, dtype }) } : { shape, dtype };
  const bufs = xs.map((x) => x.toBuf());
  // The op's declaration tied attrs A to KernelAttrs[name] (KernelOp); the union type `Op` forgets the tie.
  const t0 = profiling() ? performance.now() : -1;
  const result = kernel(bufs, attrs as KernelAttrs[KernelName], spec);
  if (t0 >= 0) {
    const outs = 'aux' in result ? [result.out, ...Object.values(result.aux)] : [result];
    recordKernel(op.name, bufs, outs, attrs, performance.now() - t0);
  }
  // Copies toBuf made for strided inputs are dead now (on backends that free memory, free them).
  const outputs = new Set('aux' in result ? [result.out.data, ...Object.values(result.aux).map((b) => b.data)] : [result.data]);
  xs.forEach((x, i) => outputs.has(bufs[i]!.data) || x.releaseBuf(bufs[i]!));
  if (!('aux' in result)) return { out: Tensor.fromBuf(backend, result), aux: {} };
  const aux: Record<string, Tensor> = {};
  for (const [name, buf] of Object.entries(result.aux)) {
    // Every aux output has a shape rule on its op (a backend that allocates first, the GPU fallback, needs it).
    if (!op.aux?.[name])
      throw new Error(`${op.name}: internal error: the kernel made aux '${name}', which the op declares no rule for`);
    aux[name] = Tensor.fromBuf(backend, buf);
  }
  return { out: Tensor.fromBuf(backend, result.out), aux };
}

/** The backend's kernel for key K: its type is the contract's entry, KernelAttrs[K]. */
function kernelFor<K extends KernelName>(backend: Backend<unknown>, name: K): Kernel<unknown, KernelAttrs[K]> | undefined {
  return backend.kernels[name];
}

/** The aux outputs' specs by the op's rules (those the kernel makes for these attrs). */
function auxSpecs<I extends string, A>(
  rules: Readonly<Record<string, AuxRule<I, A>>>,
  shapes: Record<I, Shape>,
  attrs: A,
  out: OutSpec,
): Record<string, OutSpec> {
  const specs: Record<string, OutSpec> = {};
  for (const [name, rule] of Object.entries(rules)) {
    const spec = rule(shapes, attrs, out);
    if (spec) specs[name] = spec;
  }
  return specs;
}

function commonBackend(op: string, xs: Tensor[]): Backend<any> {
  const b = xs[0].storage.backend;
  for (const x of xs) {
    if (x.storage.backend !== b) {
      throw new Error(`${op}: tensors live on different backends (${b.name} and ${x.storage.backend.name}); move one with .to()`);
    }
  }
  return b;
}

/** Refuse a storage-dtype input the op does not read as stored (a weight kept in bfloat16 or q8_0, say). */
function refuseStorage<I extends string>(
  op: { name: string; storageInputs?: readonly I[] },
  names: readonly I[],
  inputs: Record<I, Tensor>,
): void {
  for (const n of names) {
    const d = inputs[n].dtype;
    if (isStorageDtype(d) && !op.storageInputs?.includes(n)) {
      const takes = op.storageInputs?.length ? ` (only ${op.storageInputs.join(', ')} may be)` : '';
      throw new Error(
        `${op.name}: ${n} is ${d}, a storage dtype this op does not take${takes}; convert it with .to('float32') first`,
      );
    }
  }
}

/** The default dtype rule: all inputs share one dtype. */
function sameDtype<I extends string>(op: string, names: readonly I[], inputs: Record<I, Tensor>): DType {
  const d = inputs[names[0]].dtype;
  for (const n of names) {
    if (inputs[n].dtype !== d) {
      const got = names.map((m) => `${m} is ${inputs[m].dtype}`).join(', ');
      throw new Error(`${op}: dtype mismatch: ${got}; cast one with .to(dtype)`);
    }
  }
  return d;
}

function record<I extends string, V>(names: readonly I[], f: (n: I) => V): Record<I, V> {
  const r = {} as Record<I, V>;
  for (const n of names) r[n] = f(n);
  return r;
}
