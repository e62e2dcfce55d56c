// forward({ outputAttentions }) — the attention probabilities HF returns with output_attentions and the
// playground draws: per layer [B, NH, Tq, Tk], rows summing to 1, nothing above the diagonal; the same
// rows when decoded one token at a time with the KV cache; padded keys weighted 0 and the real ones as
// without padding; and, through the op, probabilities · v = the fused attention's output.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attention, attentionWeights, Generator, noGrad, ones, randn, repeatKv, tensor, type Tensor } from '../../core/index.js';
import { fcParams } from '../../core/testing/index.js';
import { KVCache } from '../../model/kv_cache.js';
import { buildModel, ids2d, tinyConfig } from '../helpers/tiny_models.js';

const rows = (t: Tensor): number[][] => {
  const d = Array.from(t.dataSync());
  const n = t.shape[t.ndim - 1];
  return Array.from({ length: d.length / n }, (_, i) => d.slice(i * n, i * n + n));
};

describe('forward outputAttentions', () => {
  it('gives per layer [B, NH, T, T] causal probability rows, equal to the rows of cached one-token decoding', () => {
    const arb = tinyConfig().chain((spec) =>
      fc.record({
        spec: fc.constant(spec),
        ids: fc.array(fc.integer({ min: 0, max: (spec.config.vocab_size as number) - 1 }), { minLength: 1, maxLength: 6 }),
      }),
    );
    fc.assert(
      fc.property(arb, ({ spec, ids }) => {
        const model = buildModel(spec);
        const c = model.config;
        const T = ids.length;
        const full = noGrad(() => model.forward(ids2d([ids]), { outputAttentions: true })).attentions!;
        expect(full.length).toBe(c.num_hidden_layers);
        for (const a of full) {
          expect(a.shape).toEqual([1, c.num_attention_heads, T, T]);
          rows(a).forEach((r, i) => {
            const q = i % T;
            expect(r.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
            r.forEach((x, j) => (j > q ? expect(x).toBe(0) : expect(x).toBeGreaterThan(0)));
          });
        }
        // Decoding token by token: step t's [1, NH, 1, t+1] rows are row t of the full matrices.
        const cache = new KVCache();
        for (let t = 0; t < T; t++) {
          const step = noGrad(() => model.forward(ids2d([[ids[t]!]]), { cache, outputAttentions: true })).attentions!;
          step.forEach((a, l) => {
            expect(a.shape).toEqual([1, c.num_attention_heads, 1, t + 1]);
            const want = full[l]!.narrow(2, t, 1).narrow(3, 0, t + 1);
            const [got, exp] = [a.dataSync(), want.contiguous().dataSync()];
            got.forEach((x, i) => expect(Math.abs(x - exp[i]!)).toBeLessThan(1e-12));
          });
        }
      }),
      fcParams(25),
    );
  });

  it('weights padded keys 0 and the real keys as the unpadded sequence does', () => {
    const spec = fc.sample(tinyConfig('llama'), { seed: 7, numRuns: 1 })[0]!;
    const model = buildModel(spec);
    const ids = [3, 1, 4, 1, 5].map((x) => x % (spec.config.vocab_size as number));
    const plain = noGrad(() => model.forward(ids2d([ids]), { outputAttentions: true })).attentions!;
    const mask = tensor([[0, 0, 1, 1, 1, 1, 1]], { dtype: 'int32' });
    const padded = noGrad(() =>
      model.forward(ids2d([[0, 0, ...ids]]), {
        attentionMask: mask,
        positionIds: tensor([[0, 0, 0, 1, 2, 3, 4]], { dtype: 'int32' }),
        outputAttentions: true,
      }),
    ).attentions!;
    padded.forEach((a, l) => {
      const r = rows(a);
      const want = rows(plain[l]!);
      r.forEach((row, i) => {
        const [h, q] = [Math.floor(i / 7), i % 7];
        if (q < 2) return; // a padded query's row is whatever softmax makes of an all-masked row
        expect(row[0]).toBe(0);
        expect(row[1]).toBe(0);
        row.slice(2).forEach((x, j) => expect(Math.abs(x - want[h * 5 + q - 2]![j]!)).toBeLessThan(1e-12));
      });
    });
  });

  it('attentionWeights(q, k) · v equals the fused attention, causal with an offset and a mask, GQA', () => {
    fc.assert(
      fc.property(
        fc.record({ Tq: fc.integer({ min: 1, max: 5 }), past: fc.nat(3), rep: fc.constantFrom(1, 2, 3), seed: fc.nat(1000) }),
        ({ Tq, past, rep, seed }) => {
          const Tk = Tq + past;
          const [q, k, v] = [
            randn([2, 2 * rep, Tq, 4], { dtype: 'float64', generator: new Generator(seed) }),
            randn([2, 2, Tk, 4], { dtype: 'float64', generator: new Generator(seed + 1) }),
            randn([2, 2, Tk, 4], { dtype: 'float64', generator: new Generator(seed + 2) }),
          ];
          const mask = ones([2, 1, 1, Tk], { dtype: 'float64' }).mul(-0.5);
          const opts = { causal: true, offset: past, mask };
          const got = attentionWeights(q, k, opts).matmul(repeatKv(v, rep)).dataSync();
          const want = attention(q, k, v, opts).dataSync();
          got.forEach((x, i) => expect(Math.abs(x - want[i]!)).toBeLessThan(1e-12));
        },
      ),
      fcParams(40),
    );
  });
});
