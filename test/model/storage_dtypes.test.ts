// Done-means of issue 16 for the model: the HF golden checkpoints with their Linear weights kept in bfloat16
// give the logits of our float32 model on the bf16-rounded weights (which match HF's float32 run within 1e-5
// on the goldens); quantized (q8_0, q4_0) models equal the float model on the dequantized weights; both
// Llama and Qwen3-MoE (whose stored experts run one routed expert at a time); KV-cache decode with stored
// weights equals the full forward; saved as BF16 and loaded with dtype 'auto', the weights stay 2 bytes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cat, noGrad, type DType, type Tensor } from '../../core/index.js';
import { createModel, type CausalLM } from '../../model/causal_lm.js';
import { parseConfig } from '../../model/config.js';
import { KVCache } from '../../model/kv_cache.js';
import { fromPretrained, savePretrained } from '../../model/pretrained.js';
import { storageDtypeFor } from '../../model/weights_dtype.js';
import { golden, relErr, type Golden } from '../helpers/golden.js';

const VARIANTS = ['llama_tiny', 'qwen3moe_tiny', 'qwen3moe_tiny_dense0'] as const;

function load(g: Golden): CausalLM {
  const m = createModel(parseConfig(g.config), { init: 'empty' });
  m.loadStateDict((k) => {
    try {
      return g.param(k);
    } catch {
      return undefined;
    }
  }, 'float32');
  return m;
}

/** The float32 model whose weights are what `dtype`/`quantize` keep, decoded: the oracle for the stored model. */
function roundedCopy(g: Golden, opts: { dtype?: 'bfloat16'; quantize?: 'q8_0' | 'q4_0' }): CausalLM {
  const m = load(g);
  const sd = m.stateDict();
  m.loadStateDict((k) => {
    const t = sd.get(k);
    if (!t) return undefined;
    const d = storageDtypeFor(k, t.dtype, { dtype: opts.dtype ?? 'auto', quantize: opts.quantize });
    return d === 'float32' ? t : t.to(d).to('float32');
  }, 'float32');
  return m;
}

const storedDtypes = (m: CausalLM) => new Set(m.parameters().map((p) => p.dtype as DType));

for (const variant of VARIANTS) {
  const g = golden(variant);
  describe(`stored weights on the HF golden ${variant}`, () => {
    const ids = g.t('A.input_ids');

    it('bfloat16: the logits of the float32 model on bf16-rounded weights (≤ 1e-5)', async () => {
      const m = load(g).toStorage('bfloat16');
      expect(storedDtypes(m)).toEqual(new Set(['bfloat16', 'float32']));
      // Norms and the router stay float32.
      for (const [k, t] of m.stateDict()) expect([k, t.dtype]).toEqual([k, /norm|mlp\.gate\./.test(k) ? 'float32' : 'bfloat16']);
      const [got, want] = noGrad(() => [m.forward(ids).logits, roundedCopy(g, { dtype: 'bfloat16' }).forward(ids).logits]);
      expect(await relErr(got, want)).toBeLessThan(1e-5);
    });

    if (variant === 'qwen3moe_tiny_dense0') {
      it('a weight whose rows are not a multiple of 32 is refused before anything converts', () => {
        const m = load(g);
        const before = m.parameters();
        expect(() => m.quantize('q4_0')).toThrow(
          /convertWeights: 'model\.layers\.\d\.mlp\..*' cannot be kept as q4_0: q4_0: .*multiple of 32/,
        );
        expect(m.parameters()).toEqual(before);
        expect(storedDtypes(m)).toEqual(new Set(['float32']));
      });
      return;
    }

    for (const format of ['q8_0', 'q4_0'] as const) {
      it(`${format}: equals the float model on the dequantized weights`, async () => {
        const m = load(g).quantize(format);
        for (const [k, t] of m.stateDict()) {
          const linear = /_proj\.weight$|lm_head/.test(k) && !(m.config.tie_word_embeddings && k.includes('lm_head'));
          expect([k, t.dtype]).toEqual([k, linear ? format : 'float32']);
        }
        const [got, want] = noGrad(() => [m.forward(ids).logits, roundedCopy(g, { quantize: format }).forward(ids).logits]);
        expect(await relErr(got, want)).toBeLessThan(1e-5);
      });
    }

    it('KV-cache decode with q8_0 weights equals the full forward', async () => {
      const m = load(g).quantize('q8_0');
      const T = ids.shape[1]!;
      const full = noGrad(() => m.forward(ids).logits); // [B, T, V]
      const cache = new KVCache();
      const steps: Tensor[] = [];
      noGrad(() => {
        steps.push(m.forward(ids.narrow(1, 0, 3), { cache }).logits);
        for (let t = 3; t < T; t++) steps.push(m.forward(ids.narrow(1, t, 1), { cache }).logits);
      });
      expect(await relErr(cat(steps, 1), full)).toBeLessThan(1e-5);
    });
  });
}

describe('a checkpoint saved as BF16, loaded with dtype auto', () => {
  it('keeps its Linear weights in 2 bytes and equals the bf16-rounded float32 model', async () => {
    const g = golden('qwen3moe_tiny');
    const dir = mkdtempSync(join(tmpdir(), 'bf16-'));
    try {
      savePretrained(load(g), dir, { floatDtype: 'BF16' });
      const m = fromPretrained(dir, { dtype: 'auto' });
      expect(storedDtypes(m)).toEqual(new Set(['bfloat16', 'float32']));
      const ids = g.t('B.input_ids');
      // Every saved weight is bf16-rounded, norms and router included (they load as float32 from BF16).
      const ref = load(g);
      const sd = ref.stateDict();
      ref.loadStateDict((k) => sd.get(k)?.to('bfloat16').to('float32'), 'float32');
      const [got, want] = noGrad(() => [m.forward(ids).logits, ref.forward(ids).logits]);
      expect(await relErr(got, want)).toBeLessThan(1e-5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
