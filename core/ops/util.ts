// Small helpers the op files share: dtype rules, turning numbers into tensors, broadcasting two operands.

import { isFloating, type DType } from '../dtype.js';
import { apply, type Op } from '../op.js';
import { broadcastShapes } from '../shape.js';
import { scalarLike, type Tensor, type TensorLike } from '../tensor.js';
import { expand } from './views.js';

/** Dtype rule for ops defined on float32/float64 only (exp, log, softmax, ...). */
export function floating(op: string) {
  return ({ x }: Record<'x', DType>): DType => {
    if (!isFloating(x)) throw new Error(`${op}: expects a floating tensor (float32 or float64), got ${x}`);
    return x;
  };
}

/** Dtype rule for ops defined on numbers, integer or floating (neg, abs, add, ...), not bool. */
export function numeric(op: string, ...dtypes: DType[]): DType {
  const d = dtypes[0];
  if (dtypes.some((e) => e !== d)) throw new Error(`${op}: dtype mismatch: ${dtypes.join(' and ')}; cast one with .to(dtype)`);
  if (d === 'bool') throw new Error(`${op}: expects a numeric tensor, got bool; cast it with .to('float32')`);
  return d;
}

/** Make both operands tensors: a number takes the dtype and backend of the tensor beside it. */
export function pair(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (typeof a === 'number' && typeof b === 'number') throw new Error(`${op}: at least one operand must be a tensor`);
  const ta = typeof a === 'number' ? scalarLike(op, a, b as Tensor) : a;
  const tb = typeof b === 'number' ? scalarLike(op, b, ta) : b;
  return [ta, tb];
}

/** Bring both operands to their broadcast shape (views, no copy) and apply the two-input `op`. */
export function broadcastApply(op: Op<'a' | 'b', Record<string, never>>, a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = pair(op.name, a, b);
  const shape = broadcastShapes(op.name, ta.shape, tb.shape);
  return apply(op, { a: expand(ta, shape), b: expand(tb, shape) }, {});
}
