// matmul and linear on the GPU: one thread per output element, each a dot product over K. gpu.js has
// no workgroup memory, so there is no tiling to do; batch broadcasting is a host-computed offset per
// output batch (the CPU's batchOffsets). linear adds bias and residual in the same kernel, or, with
// an activation, writes the pre-activation (kept for the backward) and applies the activation in a
// second kernel.

import { batchOffsets } from '../cpu/matmul.js';
import { divmod, hostArray, kernel, launch, type GpuKernels, type KernelGroup } from './common.js';
import { ACTIVATION } from './elementwise.js';

/**
 * C[b] = op(A[b])·op(B[b]) with element strides: A[i, p] at aOff[b] + i·sAi + p·sAp, B[p, j] at
 * bOff[b] + p·sBp + j·sBj (transposition is only a choice of strides).
 */
const MATMUL = kernel(
  'matmul',
  `function (a, b, aOff, bOff, M, N, K, sAi, sAp, sBp, sBj) {
    ${divmod('bi', 'ij', 'this.thread.x', 'M * N')}
    ${divmod('i', 'j', 'ij', 'N')}
    const a0 = aOff[bi] + i * sAi;
    const b0 = bOff[bi] + j * sBj;
    let s = 0;
    for (let p = 0; p < K; p++) { s = s + a[a0 + p * sAp] * b[b0 + p * sBp]; }
    return s;
  }`,
);

/**
 * z = x·wᵀ (+ b) (+ residual) for x [rows, K], w [N, K]. Absent bias/residual arrive as one-element
 * placeholders with their flag 0, so every read stays in range (gpu.js does not check ranges).
 */
const LINEAR = kernel(
  'linear',
  `function (x, w, bias, res, N, K, hasBias, hasRes) {
    ${divmod('r', 'o', 'this.thread.x', 'N')}
    let s = 0;
    for (let p = 0; p < K; p++) { s = s + x[r * K + p] * w[o * K + p]; }
    return s + bias[o * hasBias] * hasBias + res[this.thread.x * hasRes] * hasRes;
  }`,
);

/** y = act(pre) + residual, the second kernel of an activated linear. */
const activated = (name: 'silu' | 'gelu' | 'gelu_tanh') =>
  kernel(
    `linear_${name}`,
    `function (pre, res, hasRes) {
    const x = pre[this.thread.x];
    ${ACTIVATION[name]('y')}
    return y + res[this.thread.x * hasRes] * hasRes;
  }`,
  );

export const matmulKernels: KernelGroup = (rt): GpuKernels => ({
  matmul: ([a, b], { transA, transB }, out) => {
    const [M, N] = out.shape.slice(-2) as [number, number];
    const K = transA ? a.shape.at(-2)! : a.shape.at(-1)!;
    const outBatch = out.shape.slice(0, -2);
    const aOff = Array.from(batchOffsets(outBatch, a.shape.slice(0, -2), M * K));
    const bOff = Array.from(batchOffsets(outBatch, b.shape.slice(0, -2), K * N));
    const strides = [transA ? 1 : K, transA ? M : 1, transB ? 1 : N, transB ? K : 1];
    return launch(rt, MATMUL, out, [a.data, b.data, hostArray(aOff), hostArray(bOff), M, N, K, ...strides]);
  },
  linear: (ins, { activation, hasBias, hasResidual }, out) => {
    const [x, w] = ins;
    const bias = hasBias ? ins[2]!.data : rt.empty;
    const res = hasResidual ? ins[hasBias ? 3 : 2]!.data : rt.empty;
    const [N, K] = w!.shape as [number, number];
    const flag = (on: boolean) => (on ? 1 : 0);
    if (activation === 'none')
      return launch(rt, LINEAR, out, [x!.data, w!.data, bias, res, N, K, flag(hasBias), flag(hasResidual)]);
    const pre = launch(rt, LINEAR, out, [x!.data, w!.data, bias, rt.empty, N, K, flag(hasBias), 0]);
    const y = launch(rt, activated(activation), out, [pre.data, res, flag(hasResidual)]);
    return { out: y, aux: { pre } };
  },
});
