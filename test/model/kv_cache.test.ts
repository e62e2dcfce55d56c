// The KV cache: decoding with it equals the full forward at every step (random Llama / Qwen3-MoE
// configs, MHA/GQA/MQA, head_dim ≠ H/heads, any prefill split, in-place and graph-keeping paths),
// causality, memory sized to need (reserve, geometric growth), crop/reset, and clear errors.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cat, noGrad, randn, type Tensor } from '../../core/index.js';
import { checkProperty } from '../../core/testing/index.js';
import { createModel } from '../../model/causal_lm.js';
import { KVCache } from '../../model/kv_cache.js';
import { preset } from '../../model/presets.js';
import { buildModel, ids2d, relErr, tinyConfig } from '../helpers/tiny_models.js';

/** Split n positions into chunks: the first is the prefill, the rest decode steps (mostly single tokens). */
const splits = (n: number) =>
  fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: n }).map((sizes) => {
    const out: number[] = [];
    let left = n;
    for (const s of sizes) {
      if (left === 0) break;
      out.push(Math.min(s, left));
      left -= out.at(-1)!;
    }
    if (left > 0) out.push(...Array(left).fill(1));
    return out;
  });

const decodeCase = tinyConfig().chain((spec) =>
  fc.integer({ min: 2, max: 10 }).chain((n) =>
    fc.record({
      spec: fc.constant(spec),
      ids: fc.array(
        fc.array(fc.integer({ min: 0, max: (spec.config.vocab_size as number) - 1 }), { minLength: n, maxLength: n }),
        { minLength: 1, maxLength: 2 },
      ),
      chunks: splits(n),
      reserve: fc.constantFrom(0, 1, n, 2 * n),
      dtype: fc.constantFrom('float64', 'float64', 'float32') as fc.Arbitrary<'float32' | 'float64'>,
      withGrad: fc.boolean(),
    }),
  ),
);

describe('KVCache decoding', () => {
  it('equals the full forward at every position, whatever the prefill split, dtype and grad mode', () => {
    checkProperty(
      decodeCase,
      ({ spec, ids, chunks, reserve, dtype, withGrad }) => {
        const model = buildModel(spec, dtype);
        const full = noGrad(() => model.forward(ids2d(ids)).logits); // [B, n, V]
        const cache = new KVCache({ capacity: reserve });
        const run = <T>(f: () => T) => (withGrad ? f() : noGrad(f));
        const parts: Tensor[] = [];
        let at = 0;
        for (const size of chunks) {
          const step = ids.map((r) => r.slice(at, at + size));
          const logits = run(() => model.forward(ids2d(step), { cache }).logits);
          expect(logits.requiresGrad).toBe(withGrad); // graph kept only when asked for
          parts.push(logits);
          at += size;
          expect(cache.length).toBe(at); // positions continue
        }
        const err = relErr(cat(parts, 1), full);
        expect(err).toBeLessThan(dtype === 'float64' ? 1e-10 : 2e-5);
        // In place (no grad): one buffer, at least what the sequence needs, at most 2× (or the reserve).
        if (!withGrad) {
          expect(cache.capacity(0)).toBeGreaterThanOrEqual(at);
          expect(cache.capacity(0)).toBeLessThanOrEqual(Math.max(reserve, 2 * at));
        } else expect(cache.capacity(0)).toBe(at);
      },
      40,
    );
  });

  it('equals the full forward on the tiny-llama and tiny-qwen3-moe presets (float32)', () => {
    for (const name of ['tiny-llama', 'tiny-qwen3-moe']) {
      const model = createModel(preset(name, { vocab_size: 512 }), { seed: 2 });
      const ids = [1, 17, 300, 42, 42, 511, 0, 9, 256, 3, 77, 100];
      const full = noGrad(() => model.forward(ids2d([ids])).logits);
      const cache = new KVCache();
      const steps = noGrad(() => [
        model.forward(ids2d([ids.slice(0, 4)]), { cache }).logits,
        ...ids.slice(4).map((id) => model.forward(ids2d([[id]]), { cache }).logits),
      ]);
      expect(relErr(cat(steps, 1), full)).toBeLessThan(1e-5);
    }
  });

  it('is causal: changing tokens after t leaves the logits at positions ≤ t unchanged', () => {
    const arb = tinyConfig().chain((spec) =>
      fc.record({
        spec: fc.constant(spec),
        a: fc.array(fc.integer({ min: 0, max: (spec.config.vocab_size as number) - 1 }), { minLength: 3, maxLength: 12 }),
        b: fc.array(fc.integer({ min: 0, max: (spec.config.vocab_size as number) - 1 }), { minLength: 12, maxLength: 12 }),
        t: fc.nat(),
      }),
    );
    checkProperty(
      arb,
      ({ spec, a, b, t: tRaw }) => {
        const t = tRaw % (a.length - 1); // keep positions ≤ t, change t+1 … end
        const changed = [...a.slice(0, t + 1), ...b.slice(0, a.length - t - 1)];
        changed[t + 1] = (a[t + 1]! + 1) % (spec.config.vocab_size as number); // token t+1 really differs
        const model = buildModel(spec);
        const [x, y] = noGrad(() => [model.forward(ids2d([a])).logits, model.forward(ids2d([changed])).logits]);
        expect(relErr(x.narrow(1, 0, t + 1), y.narrow(1, 0, t + 1))).toBeLessThan(1e-12);
      },
      30,
    );
  });

  it('keeps the graph through the cache: gradients of a decoded step equal those of the full forward', () => {
    const model = buildModel({
      config: {
        model_type: 'llama',
        vocab_size: 11,
        hidden_size: 8,
        intermediate_size: 12,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        num_key_value_heads: 2,
        head_dim: 4,
        initializer_range: 0.5,
      },
      seed: 3,
    });
    const ids = [3, 1, 4, 1, 5];
    const w = model.model.layers.items[0]!.self_attn as unknown as { q_proj: { weight: Tensor }; k_proj: { weight: Tensor } };
    const grads = (f: () => Tensor) => {
      for (const p of [w.q_proj.weight, w.k_proj.weight]) p.zeroGrad();
      f().square().sum().backward();
      return [w.q_proj.weight.grad!, w.k_proj.weight.grad!];
    };
    const full = grads(() => model.forward(ids2d([ids])).logits.narrow(1, 4, 1));
    const cache = new KVCache();
    const cached = grads(() => {
      model.forward(ids2d([ids.slice(0, 3)]), { cache });
      model.forward(ids2d([[ids[3]!]]), { cache });
      return model.forward(ids2d([[ids[4]!]]), { cache }).logits;
    });
    expect(relErr(cached[0]!, full[0]!)).toBeLessThan(1e-10);
    expect(relErr(cached[1]!, full[1]!)).toBeLessThan(1e-10); // k_proj's gradient flows through cached keys
  });
});

describe('KVCache memory', () => {
  const kv = (T: number) => randn([2, 3, T, 4], { dtype: 'float64' });

  /** Feed `sizes` positions to layer 0, advancing the cache as the model does. */
  const feed = (cache: KVCache, sizes: number[]) =>
    noGrad(() => {
      for (const T of sizes) {
        const got = cache.update(0, kv(T), kv(T));
        cache.length += T;
        expect(got.k.shape).toEqual([2, 3, cache.length, 4]);
      }
    });

  it('grows geometrically (×2) without a reserve, keeping every value written', () => {
    const cache = new KVCache();
    const capacities: number[] = [];
    const ks: Tensor[] = [];
    noGrad(() => {
      for (let step = 0; step < 100; step++) {
        const T = step === 0 ? 3 : 1;
        const k = kv(T);
        ks.push(k);
        const got = cache.update(0, k, kv(T));
        cache.length += T;
        if (capacities.at(-1) !== cache.capacity(0)) capacities.push(cache.capacity(0));
        if (step % 17 === 0 || step === 99) expect(got.k.dataSync()).toEqual(cat(ks, 2).dataSync());
      }
    });
    expect(capacities).toEqual([3, 6, 12, 24, 48, 96, 192]); // 102 positions: 7 allocations, not 100
    expect(cache.bytes()).toBe(2 * (2 * 3 * 192 * 4) * 8); // k and v, float64
  });

  it('allocates once when given the capacity it will need', () => {
    const cache = new KVCache({ capacity: 50 });
    feed(cache, [5, ...Array(45).fill(1)]);
    expect(cache.capacity(0)).toBe(50);
    expect(cache.bytes()).toBe(2 * (2 * 3 * 50 * 4) * 8);
    feed(cache, [1]); // past the reserve: it still works, by growing
    expect(cache.capacity(0)).toBe(100);
  });

  it('crops back to a prefix and decodes on from there; reset forgets everything', () => {
    const cache = new KVCache();
    const ks: Tensor[] = [];
    noGrad(() => {
      for (const T of [4, 1, 1, 1]) {
        const k = kv(T);
        ks.push(k);
        cache.update(0, k, kv(T));
        cache.length += T;
      }
      cache.crop(4);
      expect(cache.length).toBe(4);
      const k = kv(2);
      const got = cache.update(0, k, kv(2));
      expect(got.k.dataSync()).toEqual(cat([ks[0]!, k], 2).dataSync());
    });
    expect(() => cache.crop(7)).toThrow('KVCache.crop: length must be an integer in [0, 4], got 7');
    cache.reset();
    expect([cache.length, cache.bytes(), cache.capacity(0)]).toEqual([0, 0, 0]);
  });

  it('rejects mismatched shapes, dtypes and out-of-step layers with clear errors', () => {
    const cache = new KVCache();
    expect(() => new KVCache({ capacity: -1 })).toThrow('KVCache: capacity must be a non-negative integer, got -1');
    expect(() => cache.update(0, kv(2), randn([2, 3, 2, 5], { dtype: 'float64' }))).toThrow(
      'KVCache.update: expected k and v of one shape [B, KVH, T, HS] and dtype; got k float64 [2,3,2,4], v float64 [2,3,2,5]',
    );
    noGrad(() => cache.update(0, kv(2), kv(2)));
    cache.length = 2;
    expect(() => cache.update(0, randn([2, 1, 1, 4], { dtype: 'float64' }), randn([2, 1, 1, 4], { dtype: 'float64' }))).toThrow(
      'KVCache.update: layer 0 holds float64 [2,3,2,4], got k float64 [2,1,1,4]',
    );
    expect(() => cache.update(1, kv(1), kv(1))).toThrow('KVCache.update: layer 1 holds 0 positions but the cache is at 2');
  });
});
