// auto.ts's map from model_type to architecture: createModel builds the class HF's `architectures`
// names, savePretrained writes that name, and the facts the map gives (q/k norms, the routing config)
// agree with the built model — countParams, which reads them, equals the model's parameter count.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { architecture, createModel } from '../../model/causal_lm.js';
import type { ModelConfig } from '../../model/config.js';
import { countParams } from '../../model/param_count.js';
import { preset } from '../../model/presets.js';
import { savePretrained } from '../../model/pretrained.js';

const CONFIGS: Record<string, ModelConfig> = {
  llama: preset('tiny-llama', { vocab_size: 64 }),
  'llama, tied': preset('tiny-llama', { vocab_size: 64, tie_word_embeddings: true }),
  qwen3_moe: preset('tiny-qwen3-moe', { vocab_size: 64 }),
  'qwen3_moe, a dense layer': preset('tiny-qwen3-moe', { vocab_size: 64, mlp_only_layers: [0] }),
};

describe('architecture map', () => {
  for (const [what, c] of Object.entries(CONFIGS)) {
    it(`builds, names and counts the model (${what})`, () => {
      const arch = architecture(c);
      const model = createModel(c, { seed: 1 });
      expect(model.constructor.name).toBe(arch.name);
      expect(arch.name).toBe(c.model_type === 'llama' ? 'LlamaForCausalLM' : 'Qwen3MoeForCausalLM');

      const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
      const total = model.parameters().reduce((s, t) => s + numel(t.shape), 0);
      expect(countParams(c).total).toBe(total);
      const attn = model.model.layers.items[0]!.self_attn;
      expect('q_norm' in attn).toBe(arch.qkNorm);

      const moe = arch.moe(c);
      expect(moe === null).toBe(c.model_type === 'llama');
      expect(model.sparseLayers().length > 0).toBe(moe !== null);
      if (moe && c.model_type === 'qwen3_moe') expect(moe.router_aux_loss_coef).toBe(c.router_aux_loss_coef);
    });
  }

  it('savePretrained writes the architecture name to config.json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'auto-'));
    try {
      for (const c of [CONFIGS.llama!, CONFIGS.qwen3_moe!]) {
        savePretrained(createModel(c), dir);
        const json = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
        expect(json.architectures).toEqual([architecture(c).name]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
