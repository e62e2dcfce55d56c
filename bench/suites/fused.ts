// The memory-bound fused ops at LLM-jp-4 shapes, each against its unfused reference (the same math as
// separate ops) in the same run. Bytes are the minimum traffic: inputs read once, outputs written once.

import {
  adamwReference,
  adamwUpdate_,
  crossEntropy,
  crossEntropyReference,
  noGrad,
  randint,
  randn,
  rmsNorm,
  rope,
  ropeTables,
  swiglu,
  zeros,
} from '../../core/index.js';
import { RmsNorm, Rope, Swiglu } from '../../core/ops/index.js';
import type { BenchCase, SuiteOptions } from './types.js';

export function fusedCases(opts: SuiteOptions): BenchCase[] {
  const { dtype, quick } = opts;
  const bpe = dtype === 'float64' ? 8 : 4;
  const [T, C, I, V, NH, HS] = quick ? [16, 64, 96, 1000, 2, 16] : [2048, 4096, 14336, 196608, 32, 128];
  const cases: BenchCase[] = [];

  const x = randn([T, C], { dtype });
  const w = randn([C], { dtype });
  cases.push({
    label: `rmsNorm [${T}, ${C}]`,
    run: () => noGrad(() => rmsNorm(x, w)),
    bytes: (2 * T * C + C) * bpe,
    reference: () => noGrad(() => RmsNorm.reference!({ x, w }, { eps: 1e-6 })),
  });

  const Tr = quick ? 16 : 512;
  const qk = randn([1, NH, Tr, HS], { dtype });
  const { cos, sin } = ropeTables(HS, 5e5, { type: 'default' }, { offset: 0, length: Tr }, dtype);
  cases.push({
    label: `rope [1, ${NH}, ${Tr}, ${HS}]`,
    run: () => noGrad(() => rope(qk, cos, sin)),
    bytes: (2 * qk.numel() + 2 * cos.numel()) * bpe,
    reference: () => noGrad(() => Rope.reference!({ x: qk, cos, sin }, { inverse: false })),
  });

  const Ts = quick ? 8 : 512;
  const gate = randn([Ts, I], { dtype });
  const up = randn([Ts, I], { dtype });
  cases.push({
    label: `swiglu [${Ts}, ${I}]`,
    run: () => noGrad(() => swiglu(gate, up)),
    bytes: 3 * Ts * I * bpe,
    reference: () => noGrad(() => Swiglu.reference!({ gate, up }, {})),
  });

  const N = quick ? 8 : 64;
  const logits = randn([N, V], { dtype });
  const targets = randint(0, V, [N]);
  cases.push({
    label: `crossEntropy [${N}, ${V}]`,
    run: () => noGrad(() => crossEntropy(logits, targets)),
    bytes: N * V * bpe,
    tokens: N,
    reference: () => noGrad(() => crossEntropyReference(logits, targets)),
  });

  const P = quick ? 4096 : 1 << 22;
  const [p, g, m, v] = [randn([P], { dtype }), randn([P], { dtype }), zeros([P], { dtype }), zeros([P], { dtype })];
  const h = { lr: 1e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, step: 1 };
  cases.push({
    label: `adamw ${P} params`,
    run: () => adamwUpdate_(p, g, m, v, h),
    bytes: 7 * P * bpe,
    reference: () => adamwReference(p, g, m, v, h),
  });
  return cases;
}
