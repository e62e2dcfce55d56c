// SwiGLU on the CPU: silu(gate)·up in one pass, and its backward in one pass producing both gradients.

import type { TypedArray } from '../../core/dtype.js';
import type { Kernel, KernelAttrs, KernelTable } from '../../core/kernel_types.js';
import { sigmoid } from './math.js';
import { allocFor } from './shared.js';

/** y = gate·σ(gate)·up. */
export const swiglu: Kernel<TypedArray, KernelAttrs['swiglu']> = ([gate, up], _attrs, out) => {
  const G = gate.data;
  const U = up.data;
  const y = allocFor(out.dtype, G.length);
  for (let i = 0; i < G.length; i++) y[i] = G[i] * sigmoid(G[i]) * U[i];
  return { data: y, shape: out.shape, dtype: out.dtype };
};

/** dgate = dy·up·σ(g)(1 + g(1 − σ(g))), dup = dy·g·σ(g); returned as [dgate | dup]. */
export const swigluBackward: Kernel<TypedArray, KernelAttrs['swigluBackward']> = ([gate, up, dy], _attrs, out) => {
  const G = gate.data;
  const U = up.data;
  const DY = dy.data;
  const n = G.length;
  const packed = allocFor(out.dtype, 2 * n);
  for (let i = 0; i < n; i++) {
    const s = sigmoid(G[i]);
    packed[i] = DY[i] * U[i] * s * (1 + G[i] * (1 - s));
    packed[n + i] = DY[i] * G[i] * s;
  }
  return { data: packed, shape: out.shape, dtype: out.dtype };
};

/** The family's table (kernels/cpu/index.ts spreads it into the backend). */
export const swigluKernels = { swiglu, swigluBackward } satisfies Partial<KernelTable<TypedArray>>;
