// GPU cases (`--backend gpu`): each computation is built once on the GPU backend, which is timed, and
// once on the CPU backend, timed in the same run as the reference, so "vs ref" reads "× the CPU
// backend" (above 1: the GPU is faster). A GPU run ends when the device is idle (`sync`), inside a
// scope that frees what it made. matmul, attention (forward, and backward through autograd), one
// decoder layer forward + backward, and one training step of the tiny Llama and tiny Qwen3-MoE (in
// the layer suite); sizes are smaller than the CPU suites', as the modes that run without a GPU
// (webasm, webgpu on a software adapter) are slow.

import {
  adamwUpdate_,
  attention,
  cpu,
  noGrad,
  randint,
  randn,
  scope,
  withBackend,
  zerosLike,
  type Backend,
  type Tensor,
} from '../../core/index.js';
import { createModel } from '../../model/causal_lm.js';
import { countParams } from '../../model/param_count.js';
import { preset } from '../../model/presets.js';
import { params, step, type Dims } from './decoder_block.js';
import type { BenchCase, SuiteOptions } from './types.js';

/** Build `make` on both backends: time the GPU closure, with the CPU closure as its reference. */
function againstCpu(
  gpu: Backend<any>,
  label: string,
  make: () => () => void,
  extra: Omit<BenchCase, 'label' | 'run' | 'reference'>,
): BenchCase {
  const onGpu = withBackend(gpu, make);
  const onCpu = withBackend(cpu, make);
  return {
    ...extra,
    label: `${label} [${gpu.name}]`,
    run: async () => {
      // (Current backend too: ops that make tensors, such as ropeTables, put them there.)
      withBackend(gpu, () => scope(() => void onGpu(), gpu));
      await gpu.sync!();
    },
    reference: onCpu,
  };
}

export function gpuMatmulCases(opts: SuiteOptions, gpu: Backend<any>): BenchCase[] {
  const sizes = opts.quick ? [32, 64] : [128, 256, 512];
  return sizes.map((n) =>
    againstCpu(
      gpu,
      `matmul ${n}x${n}x${n}`,
      () => {
        const [a, b] = [randn([n, n]), randn([n, n])];
        return () => noGrad(() => a.matmul(b));
      },
      { flops: 2 * n ** 3, minSamples: n >= 512 ? 2 : 3 },
    ),
  );
}

export function gpuAttentionCases(opts: SuiteOptions, gpu: Backend<any>): BenchCase[] {
  const shapes: [number, number][] = opts.quick
    ? [[16, 8]]
    : [
        [128, 64],
        [512, 64],
      ];
  const [NH, KVH] = [4, 1];
  return shapes.flatMap(([T, HS]) => {
    const label = `T=${T} HS=${HS} NH=${NH} KVH=${KVH} causal`;
    const flops = (NH * 4 * T * T * HS) / 2;
    const inputs = () =>
      [randn([1, NH, T, HS]), randn([1, KVH, T, HS]), randn([1, KVH, T, HS])].map((t) => t.requiresGrad_()) as [
        Tensor,
        Tensor,
        Tensor,
      ];
    return [
      againstCpu(
        gpu,
        `attention fwd ${label}`,
        () => {
          const [q, k, v] = inputs();
          return () => noGrad(() => attention(q, k, v, { causal: true }));
        },
        { flops, tokens: T, minSamples: 3 },
      ),
      againstCpu(
        gpu,
        `attention fwd+bwd ${label}`,
        () => {
          const [q, k, v] = inputs();
          const dout = randn([1, NH, T, HS]);
          return () => {
            for (const t of [q, k, v]) t.zeroGrad();
            attention(q, k, v, { causal: true }).backward(dout);
          };
        },
        { flops: 3.5 * flops, tokens: T, minSamples: 3 },
      ),
    ];
  });
}

export function gpuLayerCases(opts: SuiteOptions, gpu: Backend<any>): BenchCase[] {
  const d: Dims = opts.quick
    ? { B: 1, T: 16, H: 32, NH: 4, KVH: 1, HS: 8, I: 64 }
    : { B: 1, T: 128, H: 256, NH: 4, KVH: 1, HS: 64, I: 704 };
  const weights = d.H * (2 * d.NH * d.HS + 2 * d.KVH * d.HS) + 3 * d.H * d.I;
  const flops = 6 * weights * d.B * d.T + 3.5 * ((d.B * d.NH * 4 * d.T * d.T * d.HS) / 2);
  const name = opts.quick ? 'tiny' : 'tiny (H 256)';
  return [
    againstCpu(
      gpu,
      `decoder layer fwd+bwd ${name} T=${d.T}`,
      () => {
        const p = params(d, 'float32');
        const [x, dy] = [randn([d.B, d.T, d.H]), randn([d.B, d.T, d.H])];
        return () => step(p, x, dy, d, true);
      },
      { flops, tokens: d.B * d.T, minSamples: 2 },
    ),
    ...gpuTrainCases(opts, gpu),
  ];
}

/**
 * One training step of the tiny presets (model/presets.ts; shrunk further with --quick): forward with
 * labels = ids (plus the load-balancing loss for MoE), backward, AdamW on every parameter in place.
 * FLOPs: 6 per active matmul weight per token (the embedding lookup is not a matmul) plus attention.
 */
export function gpuTrainCases(opts: SuiteOptions, gpu: Backend<any>): BenchCase[] {
  const T = opts.quick ? 16 : 128;
  const shrink = opts.quick
    ? { vocab_size: 96, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1, head_dim: 8, moe_intermediate_size: 16 }
    : {};
  return (['tiny-llama', 'tiny-qwen3-moe'] as const).map((name) => {
    const c = preset(name, shrink);
    const attn = c.num_hidden_layers * 3.5 * ((c.num_attention_heads * 4 * T * T * c.head_dim) / 2);
    const flops = 6 * (countParams(c).active - c.vocab_size * c.hidden_size) * T + attn;
    return againstCpu(
      gpu,
      `training step ${name} (L ${c.num_hidden_layers}, H ${c.hidden_size}, V ${c.vocab_size}) T=${T}`,
      () => {
        const model = createModel(c, { seed: 0 });
        const ids = randint(0, c.vocab_size, [1, T]);
        const ps = model.parameters();
        const [m, v] = [ps.map((p) => zerosLike(p)), ps.map((p) => zerosLike(p))];
        let k = 0;
        return () => {
          model.forward(ids, { labels: ids, outputRouterLogits: true }).loss!.backward();
          k++;
          ps.forEach((p, i) => {
            adamwUpdate_(p, p.grad!, m[i]!, v[i]!, { lr: 1e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, step: k });
            p.grad = null;
          });
        };
      },
      { flops, tokens: T, minSamples: 2 },
    );
  });
}
