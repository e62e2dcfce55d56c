// The op layer: the `Op` interface every differentiable operation implements, and `apply`, the one
// function that validates inputs, runs the kernel (or builds the view) and records the graph.
// Ops are declared in core/ops/*.ts; their backward is written in ops, one thunk per input.

import { isFloating, type DType } from './dtype.js';
import { isGradEnabled, noGrad } from './grad_mode.js';
import type { Backend, Buf, KernelName, KernelOutput } from './kernel_types.js';
import { fmt, shapesEqual, type Shape } from './shape.js';
import { Tensor } from './tensor.js';

/** What backward receives: the tensors the op asked to `save` (inputs by name, 'out', aux outputs by name). */
export type Saved<I extends string> = Record<I | 'out', Tensor> & Record<string, Tensor>;

export interface Op<I extends string = string, A = any> {
  /** The op's name — also its kernel key in every backend table (unless it is a view or composite). */
  readonly name: string;
  /** Input names, in the order the kernel receives them. Empty when `variadic` (e.g. cat). */
  readonly inputs: readonly I[];
  readonly variadic?: boolean;
  /** Validate and infer the output shape; throws a clear error naming the op and the shapes. */
  shape(x: Record<I, Shape>, attrs: A): Shape;
  /** Output dtype; by default every input must share one dtype, which the output has. */
  dtype?(x: Record<I, DType>, attrs: A): DType;
  /** What backward needs: input names, 'out', and/or names of the kernel's aux outputs. Nothing else is kept alive. */
  readonly save?: readonly (I | 'out' | (string & {}))[];
  /** dy → one thunk per input, written in ops; only thunks of inputs that need a gradient run. */
  backward?(dy: Tensor, saved: Saved<I>, attrs: A, shapes: Record<I, Shape>): Partial<Record<I, () => Tensor>>;
  /** A movement op: the output is a view (new strides/offset over the input's storage), no kernel. */
  view?(x: Tensor, attrs: A): { strides: number[]; offset: number };
  /** An op whose forward is made of other ops (run without recording) but has its own backward. */
  forward?(x: Record<I, Tensor>, attrs: A): Tensor;
  /** For fused ops: the unfused composition the fast path is tested against. */
  reference?(x: Record<I, Tensor>, attrs: A): Tensor;
}

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
  const shapes = record(names, (n) => inputs[n].shape as Shape);
  const shape = op.shape(shapes, attrs);
  const dtype = op.dtype
    ? op.dtype(
        record(names, (n) => inputs[n].dtype),
        attrs,
      )
    : sameDtype(op.name, names, inputs);
  const { out, aux } = run(op, inputs, xs, attrs, backend, shape, dtype);
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
  const kernel = (backend.kernels as Record<string, unknown>)[op.name] as
    ((ins: Buf[], attrs: A, out: { shape: Shape; dtype: DType }) => Buf | KernelOutput) | undefined;
  if (!kernel) throw new Error(`${op.name}: backend '${backend.name}' has no kernel '${op.name as KernelName}'`);
  const bufs = xs.map((x) => x.toBuf());
  const result = kernel(bufs, attrs, { shape, dtype });
  // Copies toBuf made for strided inputs are dead now (on backends that free memory, free them).
  const outputs = new Set('aux' in result ? [result.out.data, ...Object.values(result.aux).map((b) => b.data)] : [result.data]);
  xs.forEach((x, i) => outputs.has(bufs[i]!.data) || x.releaseBuf(bufs[i]!));
  if (!('aux' in result)) return { out: Tensor.fromBuf(backend, result), aux: {} };
  const aux: Record<string, Tensor> = {};
  for (const [name, buf] of Object.entries(result.aux)) aux[name] = Tensor.fromBuf(backend, buf);
  return { out: Tensor.fromBuf(backend, result.out), aux };
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
