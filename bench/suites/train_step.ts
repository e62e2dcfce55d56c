// One full training step (forward with labels, backward, global-norm clip, AdamW update) of the tiny
// LLM-jp-4-shaped presets — the dense Llama and the Qwen3-MoE (top-2 of 8, with the load-balancing and
// z-losses) — reported as tokens/s: the number the training stages run at on this machine.

import { Generator, randint } from '../../core/index.js';
import { createModel } from '../../model/causal_lm.js';
import { preset } from '../../model/presets.js';
import { AdamW } from '../../train/optim/adamw.js';
import { defaultParamGroups } from '../../train/optim/param_groups.js';
import { trainStep } from '../../train/step.js';
import type { BenchCase, SuiteOptions } from './types.js';

export function trainStepCases(opts: SuiteOptions): BenchCase[] {
  // Full: batch 4 × 128 tokens of the presets as they are (vocabulary 8000, H 128, 4 layers).
  const [B, T] = opts.quick ? [1, 8] : [4, 128];
  const small = opts.quick ? { vocab_size: 64, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, head_dim: 4 } : {};
  const cases: BenchCase[] = [];
  for (const name of ['tiny-llama', 'tiny-qwen3-moe']) {
    const config = preset(name, opts.quick && name === 'tiny-qwen3-moe' ? { ...small, moe_intermediate_size: 8 } : small);
    const model = createModel(config, { dtype: opts.dtype, seed: 0 });
    const optimizer = new AdamW(defaultParamGroups(model.namedParameters(), 0.1), { betas: [0.9, 0.95] });
    const ids = randint(0, config.vocab_size, [B, T], { generator: new Generator(1) });
    const params = model.namedParameters().reduce((n, [, t]) => n + t.numel(), 0);
    cases.push({
      label: `train step ${name} B=${B} T=${T} (${(params / 1e6).toFixed(2)}M params)`,
      run: () => trainStep(model, optimizer, [{ inputIds: ids, labels: ids }], { lr: 1e-4, maxGradNorm: 1, zLossCoef: 1e-3 }),
      tokens: B * T,
      minSamples: 3,
    });
  }
  return cases;
}
