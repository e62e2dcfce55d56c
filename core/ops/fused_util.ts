// Helpers for fused ops whose backward kernel returns several gradients packed in one buffer.

import type { KernelName } from '../kernel_types.js';
import { apply, type KernelOp, type Op } from '../op.js';
import type { Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { narrow, reshape } from './views.js';

/** A non-differentiable op running a backward kernel whose output is the listed gradients, flattened and concatenated. */
export function packedBackwardOp<I extends string, K extends KernelName>(
  name: K,
  inputs: readonly I[],
  parts: (s: Record<I, Shape>) => Shape[],
): KernelOp<I, K> {
  return {
    name,
    inputs,
    shape: (s) => [parts(s).reduce((n, p) => n + p.reduce((a, b) => a * b, 1), 0)],
    // The gradients have the dtype of the first input (the data); others may be int32 bookkeeping.
    dtype: (d) => d[inputs[0]],
  };
}

/** Split a packed gradient buffer back into tensors of the given shapes (views, no copy). */
export function unpack(packed: Tensor, shapes: readonly Shape[]): Tensor[] {
  let start = 0;
  return shapes.map((s) => {
    const n = s.reduce((a, b) => a * b, 1);
    const part = reshape(narrow(packed, 0, start, n), s);
    start += n;
    return part;
  });
}

/** Run a backward kernel once and hand out its gradients lazily (each thunk of an op's backward may ask). */
export function lazyGrads<I extends string, A>(
  op: Op<I, A>,
  inputs: Record<I, Tensor>,
  attrs: A,
  shapes: readonly Shape[],
): () => Tensor[] {
  let grads: Tensor[] | null = null;
  return () => (grads ??= unpack(apply(op, inputs, attrs), shapes));
}
