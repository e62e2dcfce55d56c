// One MoE layer (router → top-k → experts → combine, plus the load-balancing loss), forward + backward,
// against the HF-style per-expert loop in the same run; and the grouped expert matmuls alone against one
// dense matmul of the same total FLOPs. Shapes span LLM-jp-4 32B-A3B's routing (128 experts, top-8) and
// its expert shape (H 2560, expert width 960), not both at once: that layer alone is 3.8 GB of weights.

import { cpu, Generator, noGrad, randint, randn, routeTopK, type Buf, type Tensor, type TypedArray } from '../../core/index.js';
import { MoeExperts } from '../../core/ops/index.js';
import { loadBalancingLoss } from '../../model/moe_losses.js';
import { Qwen3MoeSparseMoeBlock } from '../../model/qwen3_moe.js';
import type { BenchCase, SuiteOptions } from './types.js';

interface Shape {
  N: number;
  H: number;
  I: number;
  E: number;
  K: number;
}

function params(s: Shape, dtype: SuiteOptions['dtype']) {
  const w = (...shape: number[]) =>
    randn(shape, { dtype })
      .mul(shape.at(-1)! ** -0.5)
      .requiresGrad_();
  return { router: w(s.E, s.H), gate: w(s.E, s.I, s.H), up: w(s.E, s.I, s.H), down: w(s.E, s.H, s.I) };
}

/** The model's sparse block holding `p` as its weights (its own random init is replaced). */
function block(p: ReturnType<typeof params>, s: Shape, dtype: SuiteOptions['dtype']): Qwen3MoeSparseMoeBlock {
  const c = { hidden_size: s.H, num_experts: s.E, num_experts_per_tok: s.K, moe_intermediate_size: s.I, norm_topk_prob: true };
  const b = new Qwen3MoeSparseMoeBlock(c, { dtype, generator: new Generator(0), std: 0.02 });
  b.gate.setParameter('weight', p.router);
  b.experts.setParameter('gate_proj', p.gate);
  b.experts.setParameter('up_proj', p.up);
  b.experts.setParameter('down_proj', p.down);
  return b;
}

/** Forward + backward of the sparse block with the aux loss, fused (the model's block) or through HF's loop. */
function step(p: ReturnType<typeof params>, moe: Qwen3MoeSparseMoeBlock, x: Tensor, dy: Tensor, s: Shape, fused: boolean): void {
  for (const t of Object.values(p)) t.zeroGrad();
  let out: Tensor;
  let logits: Tensor;
  if (fused) {
    const r = moe.forward(x);
    [out, logits] = [r.out, r.routerLogits];
  } else {
    logits = x.matmul(p.router.mT);
    const { weights, indices } = routeTopK(logits, s.K, true);
    out = MoeExperts.reference!({ x, weights, indices, gate: p.gate, up: p.up, down: p.down }, { capacity: -1 });
  }
  out
    .mul(dy)
    .sum()
    .add(loadBalancingLoss([logits], s.E, s.K).mul(1e-2))
    .backward();
}

export function moeCases(opts: SuiteOptions): BenchCase[] {
  const shapes: Shape[] = opts.quick
    ? [{ N: 16, H: 16, I: 8, E: 4, K: 2 }]
    : [
        { N: 256, H: 256, I: 96, E: 8, K: 1 },
        { N: 1024, H: 512, I: 192, E: 32, K: 2 },
        // 128 experts, top-8, as LLM-jp-4 32B-A3B routes; narrower than its experts so the weights fit.
        { N: 2048, H: 512, I: 192, E: 128, K: 8 },
        // Its real expert shape (H 2560, width 960) with 8 experts: 128 of them would be 3.8 GB per layer.
        { N: 256, H: 2560, I: 960, E: 8, K: 2 },
      ];
  const cases: BenchCase[] = [];
  for (const s of shapes) {
    const p = params(s, opts.dtype);
    const moe = block(p, s, opts.dtype);
    const x = randn([s.N, s.H], { dtype: opts.dtype });
    const dy = randn([s.N, s.H], { dtype: opts.dtype });
    const expertFlops = 3 * 2 * s.N * s.K * s.H * s.I;
    const label = `N=${s.N} H=${s.H} I=${s.I} E=${s.E} K=${s.K}`;
    cases.push({
      label: `moe layer fwd+bwd ${label}`,
      run: () => step(p, moe, x, dy, s, true),
      reference: () => step(p, moe, x, dy, s, false),
      flops: 3 * expertFlops,
      tokens: s.N,
      minSamples: 2,
    });
    if (opts.quick || s.E === 128) {
      // The expert matmuls alone (the fused forward kernel), and a dense matmul with the same FLOPs.
      const w = noGrad(() => routeTopK(x.matmul(p.router.mT), s.K, true).weights);
      const idx = randint(0, s.E, [s.N, s.K]);
      const bufs = [x, w, idx, p.gate, p.up, p.down].map((t) => t.toBuf()) as Buf<TypedArray>[];
      const A = s.N * s.K;
      const a = randn([A, s.H], { dtype: opts.dtype });
      const b = randn([3 * s.I, s.H], { dtype: opts.dtype });
      cases.push({
        label: `moe experts fwd ${label}`,
        run: () => cpu.kernels.moe(bufs, { capacity: -1 }, { shape: [s.N, s.H], dtype: opts.dtype }),
        flops: expertFlops,
        minSamples: 3,
      });
      cases.push({
        label: `dense matmul, same FLOPs ([${A}, ${s.H}]·[${s.H}, ${3 * s.I}])`,
        run: () => noGrad(() => a.matmul(b.mT)),
        flops: expertFlops,
        minSamples: 3,
      });
    }
  }
  return cases;
}
