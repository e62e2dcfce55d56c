// linear: y = act(x·wᵀ + b) + residual with HF's [out, in] weights, as one fused op. The CPU kernel
// applies bias, activation and residual to each output tile while it is still in cache; `reference`
// is the same math as separate ops, and the two are tested equal (forward and every gradient).

import { isStorageDtype } from '../dtype.js';
import type { KernelAttrs } from '../kernel_types.js';
import { apply, type KernelOp } from '../op.js';
import { fmt, shapesEqual } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { matmul } from './matmul.js';
import { geluDerivative, siluDerivative } from './unary.js';
import { floating } from './util.js';

declare module '../kernel_types.js' {
  interface KernelAttrs {
    /**
     * y = act(x·wᵀ + b) + residual: x [..., in], w [out, in], then b [out] and residual [..., out] when
     * flagged. With an activation, aux `pre` holds x·wᵀ + b (what the backward needs).
     */
    linear: { activation: 'none' | 'silu' | 'gelu' | 'gelu_tanh'; hasBias: boolean; hasResidual: boolean };
  }
  interface KernelAux {
    linear: 'pre';
  }
}

export type Activation = KernelAttrs['linear']['activation'];
type In = 'x' | 'w' | 'b' | 'r';

function activate(z: Tensor, activation: Activation): Tensor {
  if (activation === 'silu') return z.silu();
  if (activation === 'gelu') return z.gelu();
  if (activation === 'gelu_tanh') return z.gelu('tanh');
  return z;
}

function activationDerivative(z: Tensor, activation: Activation): Tensor {
  if (activation === 'silu') return siluDerivative(z);
  return geluDerivative(z, activation === 'gelu' ? 'none' : 'tanh');
}

/**
 * y = act(z) + r with z = x·wᵀ + b. Backward, with dz = dy·act′(z) (z is the kernel's aux `pre`):
 * dx = dz·w, dw = dzᵀ·x (rows flattened), db = Σ_rows dz, dr = dy.
 */
function makeLinear(hasBias: boolean, hasResidual: boolean): KernelOp<In, 'linear'> {
  const inputs: In[] = ['x', 'w', ...(hasBias ? ['b' as const] : []), ...(hasResidual ? ['r' as const] : [])];
  return {
    name: 'linear',
    inputs,
    save: ['x', 'w', 'pre'],
    // z = x·wᵀ + b, kept only when an activation follows (without one, dz = dy).
    aux: { pre: (_x, { activation }, out) => (activation === 'none' ? null : { shape: out.shape, dtype: out.dtype }) },
    shape: ({ x, w, b, r }) => {
      if (w.length !== 2 || x.length < 1 || x.at(-1) !== w[1]) {
        throw new Error(`linear: x is ${fmt(x)} and w is ${fmt(w)}; expected w [out, ${x.at(-1)}]`);
      }
      if (b !== undefined && (b.length !== 1 || b[0] !== w[0])) throw new Error(`linear: bias is ${fmt(b)}, expected [${w[0]}]`);
      const out = [...x.slice(0, -1), w[0]];
      if (r !== undefined && !shapesEqual(r, out))
        throw new Error(`linear: residual is ${fmt(r)}, expected the output shape ${fmt(out)}`);
      return out;
    },
    // The weight may be kept as stored (bfloat16, float16, q8_0, q4_0): read as float32 inside the kernel.
    storageInputs: ['w'],
    dtype: (d) => {
      if (isStorageDtype(d.w)) {
        const others = inputs.filter((n) => n !== 'w' && d[n] !== 'float32');
        if (others.length > 0)
          throw new Error(
            `linear: a ${d.w} weight takes float32 activations, got ${others.map((n) => `${n} ${d[n]}`).join(', ')}`,
          );
        return 'float32';
      }
      const ds = inputs.map((n) => d[n]);
      if (ds.some((t) => t !== ds[0]))
        throw new Error(`linear: dtype mismatch: ${inputs.map((n, i) => `${n} is ${ds[i]}`).join(', ')}`);
      return floating('linear')({ x: ds[0] });
    },
    backward: (dy, { x, w, pre }, { activation }) => {
      let dzMemo: Tensor | null = null;
      const dz = () => (dzMemo ??= activation === 'none' ? dy : dy.mul(activationDerivative(pre, activation)));
      const rows = (t: Tensor) => t.reshape(-1, t.shape.at(-1)!);
      return {
        x: () => matmul(dz(), w),
        w: () => matmul(rows(dz()).mT, rows(x)),
        b: () => rows(dz()).sum(0),
        r: () => dy,
      };
    },
    reference: ({ x, w, b, r }, { activation }) => {
      let z = matmul(x, w.mT);
      if (b) z = z.add(b);
      const y = activate(z, activation);
      return r ? y.add(r) : y;
    },
  };
}

const OPS = new Map<string, KernelOp<In, 'linear'>>();

/** The Linear op for one combination of optional inputs (bias, residual). */
export function linearOp(hasBias: boolean, hasResidual: boolean): KernelOp<In, 'linear'> {
  const key = `${hasBias}${hasResidual}`;
  if (!OPS.has(key)) OPS.set(key, makeLinear(hasBias, hasResidual));
  return OPS.get(key)!;
}

export interface LinearOptions {
  activation?: Activation;
  /** Added after the activation, e.g. the residual stream of a transformer block. */
  residual?: Tensor;
}

/**
 * y = act(x·wᵀ + b) + residual, x [..., in], w [out, in] (the HF layout), b [out]. w may hold a storage dtype
 * (a frozen weight kept as bfloat16/float16/q8_0/q4_0): x is then float32 and the sums run in float32.
 */
export function linear(x: Tensor, w: Tensor, b?: Tensor, opts: LinearOptions = {}): Tensor {
  const { activation = 'none', residual } = opts;
  const inputs = { x, w, ...(b ? { b } : {}), ...(residual ? { r: residual } : {}) } as Record<In, Tensor>;
  return apply(linearOp(b !== undefined, residual !== undefined), inputs, {
    activation,
    hasBias: b !== undefined,
    hasResidual: residual !== undefined,
  });
}
