// generate(): against a plain loop that reruns the full forward for every token (no cache) — greedy and
// sampled, with every processor — on random tiny Llama / Qwen3-MoE models; stop tokens (given, and the
// config's eos by default); streaming order; batches; seeds; no autograd graph; bad input.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Generator, isGradEnabled, noGrad, type Tensor } from '../../core/index.js';
import { fcParams } from '../../core/testing/index.js';
import type { CausalLM } from '../../model/causal_lm.js';
import { generate, type GenerateOptions } from '../../model/generate.js';
import { KVCache } from '../../model/kv_cache.js';
import { nextToken } from '../../model/sampling.js';
import { buildModel, ids2d, tinyConfig, type TinySpec } from '../helpers/tiny_models.js';

/** The oracle: a full forward over the whole sequence for every new token, the last row's logits chosen from. */
function referenceLoop(model: CausalLM, prompt: number[], opts: GenerateOptions & { stopTokens: number[] }): number[] {
  const g = new Generator(opts.seed ?? 0);
  const seq = [...prompt];
  const out: number[] = [];
  for (let i = 0; i < (opts.maxNewTokens ?? 32); i++) {
    const logits = noGrad(() => model.forward(ids2d([seq])).logits);
    const last = logits.narrow(1, seq.length - 1, 1).dataSync();
    const id = nextToken(last, seq, opts, g);
    out.push(id);
    seq.push(id);
    if (opts.stopTokens.includes(id)) break;
  }
  return out;
}

const vocabOf = (spec: TinySpec) => spec.config.vocab_size as number;
const promptArb = (spec: TinySpec, min = 1, max = 6) =>
  fc.array(fc.integer({ min: 0, max: vocabOf(spec) - 1 }), { minLength: min, maxLength: max });

/** Count forwards (and check none builds a graph) by wrapping the model's forward. */
function instrument(model: CausalLM): { calls: () => number } {
  let calls = 0;
  const forward = model.forward.bind(model);
  model.forward = (ids, o) => {
    calls++;
    const r = forward(ids, o);
    expect(r.logits.requiresGrad).toBe(false);
    return r;
  };
  return { calls: () => calls };
}

describe('generate', () => {
  it('equals the uncached full-forward loop, greedy and sampled, with any prefill chunking', async () => {
    const arb = tinyConfig().chain((spec) =>
      fc.record({
        spec: fc.constant(spec),
        prompt: promptArb(spec),
        maxNewTokens: fc.integer({ min: 1, max: 7 }),
        prefillChunk: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
        sampled: fc.boolean(),
        temperature: fc.double({ min: 0.3, max: 2, noNaN: true }),
        topK: fc.nat(5),
        topP: fc.double({ min: 0.3, max: 1, noNaN: true }),
        repetitionPenalty: fc.constantFrom(1, 1.3, 0.8),
        seed: fc.nat(1000),
      }),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ({ spec, prompt, sampled, temperature, topK, topP, ...rest }) => {
        const model = buildModel(spec);
        const opts = { ...rest, stopTokens: [], ...(sampled ? { temperature, topK, topP } : {}) };
        const got = await generate(model, prompt, opts);
        expect(got).toEqual(referenceLoop(model, prompt, opts));
      }),
      fcParams(25),
    );
  });

  it('stops after a stop token (included), by default the config eos_token_id', async () => {
    const arb = tinyConfig().chain((spec) => fc.record({ spec: fc.constant(spec), prompt: promptArb(spec), j: fc.nat(5) }));
    await fc.assert(
      fc.asyncProperty(arb, async ({ spec, prompt, j }) => {
        const all = await generate(buildModel(spec), prompt, { maxNewTokens: 6, stopTokens: [] });
        const stop = all[j]!;
        const expected = all.slice(0, all.indexOf(stop) + 1);
        expect(await generate(buildModel(spec), prompt, { maxNewTokens: 6, stopTokens: [stop] })).toEqual(expected);
        const withEos = buildModel({ ...spec, config: { ...spec.config, eos_token_id: stop } });
        expect(await generate(withEos, prompt, { maxNewTokens: 6 })).toEqual(expected);
        const withEosList = buildModel({ ...spec, config: { ...spec.config, eos_token_id: [vocabOf(spec) + 5, stop] } });
        expect(await generate(withEosList, prompt, { maxNewTokens: 6 })).toEqual(expected);
      }),
      fcParams(10),
    );
  });

  it('streams each token as it is chosen, before the next forward, without building a graph', async () => {
    const spec = {
      config: {
        model_type: 'qwen3_moe',
        vocab_size: 30,
        hidden_size: 12,
        intermediate_size: 16,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        num_key_value_heads: 2,
        head_dim: 6,
        num_experts: 4,
        num_experts_per_tok: 2,
        moe_intermediate_size: 8,
        initializer_range: 0.6,
      },
      seed: 1,
    };
    const model = buildModel(spec, 'float32');
    const { calls } = instrument(model);
    const seen: [number, number, number][] = [];
    const ids = await generate(model, [1, 5, 7, 9, 11], {
      maxNewTokens: 6,
      stopTokens: [],
      prefillChunk: 2,
      onToken: (id, row) => seen.push([id, row, calls()]),
    });
    expect(isGradEnabled()).toBe(true); // generation left grad mode as it found it
    expect(seen.map((s) => s[0])).toEqual(ids);
    // Prefill: ceil(5/2) = 3 forwards; token i is streamed after 3 + i forwards, and the last one needs none after it.
    expect(seen.map((s) => s[2])).toEqual([3, 4, 5, 6, 7, 8]);
    expect(calls()).toBe(8);
    expect(seen.every((s) => s[1] === 0)).toBe(true);
  });

  it('waits for an onToken that returns a promise before the next forward (a page paints there)', async () => {
    const spec = {
      config: {
        model_type: 'llama',
        vocab_size: 30,
        hidden_size: 12,
        intermediate_size: 16,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        num_key_value_heads: 1,
        head_dim: 6,
        initializer_range: 0.6,
      },
      seed: 2,
    };
    const model = buildModel(spec, 'float32');
    const { calls } = instrument(model);
    const log: string[] = [];
    await generate(model, [1, 2, 3], {
      maxNewTokens: 3,
      stopTokens: [],
      onToken: async () => {
        log.push(`token after ${calls()}`);
        await new Promise((r) => setTimeout(r, 5));
        log.push(`painted after ${calls()}`);
      },
    });
    expect(log).toEqual([
      'token after 1',
      'painted after 1',
      'token after 2',
      'painted after 2',
      'token after 3',
      'painted after 3',
    ]);
  });

  it('decodes a batch of equal-length prompts as each alone, each row stopping on its own', async () => {
    const arb = tinyConfig().chain((spec) =>
      fc.integer({ min: 1, max: 5 }).chain((n) =>
        fc.record({
          spec: fc.constant(spec),
          a: promptArb(spec, n, n),
          b: promptArb(spec, n, n),
          stop: fc.nat(vocabOf(spec) - 1),
        }),
      ),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ({ spec, a, b, stop }) => {
        const model = buildModel(spec);
        const opts = { maxNewTokens: 5, stopTokens: [stop] };
        const streamed: number[][] = [[], []];
        const both = await generate(model, [a, b], { ...opts, onToken: (id, row) => streamed[row]!.push(id) });
        expect(both).toEqual([await generate(model, a, opts), await generate(model, b, opts)]);
        expect(streamed).toEqual(both);
      }),
      fcParams(10),
    );
  });

  it('gives the same tokens for the same seed, and different seeds differ', async () => {
    const model = buildModel({
      config: {
        model_type: 'llama',
        vocab_size: 40,
        hidden_size: 8,
        intermediate_size: 12,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        num_key_value_heads: 1,
        head_dim: 4,
        initializer_range: 0.3,
      },
      seed: 0,
    });
    const run = (seed: number) => generate(model, [1, 2], { maxNewTokens: 10, temperature: 1.5, seed, stopTokens: [] });
    expect(await run(3)).toEqual(await run(3));
    const outs = new Set<string>();
    for (let s = 0; s < 4; s++) outs.add(JSON.stringify(await run(s)));
    expect(outs.size).toBeGreaterThan(1);
  });

  it('rejects bad prompts and options with messages that name them', async () => {
    const model = buildModel({
      config: {
        model_type: 'llama',
        vocab_size: 10,
        hidden_size: 8,
        intermediate_size: 8,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        num_key_value_heads: 1,
        head_dim: 4,
        max_position_embeddings: 16,
      },
      seed: 0,
    });
    await expect(generate(model, [])).rejects.toThrow('generate: the prompt is empty (give at least one token, e.g. BOS)');
    await expect(generate(model, [1, 10])).rejects.toThrow('generate: prompt token 10 (row 0) is outside the vocabulary [0, 10)');
    await expect(generate(model, [[1, 2], [3]])).rejects.toThrow(
      'generate: batched prompts must have one length; row 0 has 2 tokens, row 1 has 1',
    );
    await expect(generate(model, [1], { maxNewTokens: -1 })).rejects.toThrow(
      'generate: maxNewTokens must be a non-negative integer, got -1',
    );
    await expect(generate(model, [1], { topK: 1.5 })).rejects.toThrow('generate: topK must be a non-negative integer, got 1.5');
    await expect(generate(model, [1, 2, 3], { maxNewTokens: 14 })).rejects.toThrow(
      "generate: prompt (3 tokens) + maxNewTokens (14) exceeds the model's max_position_embeddings (16)",
    );
    await expect(generate(model, [1], { maxNewTokens: 2, prefillChunk: 0 })).rejects.toThrow(
      'generate: prefillChunk must be a positive integer, got 0',
    );
    expect(await generate(model, [1], { maxNewTokens: 0 })).toEqual([]);
  });
});

describe('long context', () => {
  it('a tiny-width model runs a 2,048-token forward, equal to the same sequence prefilled in cached chunks', () => {
    const spec = {
      config: {
        model_type: 'llama',
        vocab_size: 64,
        hidden_size: 32,
        intermediate_size: 64,
        num_hidden_layers: 2,
        num_attention_heads: 2,
        num_key_value_heads: 1,
        head_dim: 16,
        max_position_embeddings: 65536,
        initializer_range: 0.2,
      },
      seed: 5,
    };
    const model = buildModel(spec, 'float32');
    const T = 2048;
    const g = new Generator(9);
    const ids = Array.from({ length: T }, () => g.nextInt(64));
    const full: Tensor = noGrad(() => model.forward(ids2d([ids])).logits);
    expect(full.shape).toEqual([1, T, 64]);
    const tail = full.narrow(1, T - 256, 256).dataSync();
    expect(tail.every(Number.isFinite)).toBe(true);
    // The same positions through the cache: three chunks, the last 256 positions compared.
    const cache = new KVCache();
    let last: Tensor | undefined;
    noGrad(() => {
      for (const [start, n] of [
        [0, 1024],
        [1024, 768],
        [1792, 256],
      ] as const)
        last = model.forward(ids2d([ids.slice(start, start + n)]), { cache }).logits;
    });
    const got = last!.dataSync();
    let err = 0;
    for (let i = 0; i < got.length; i++) err = Math.max(err, Math.abs(got[i]! - tail[i]!));
    expect(err).toBeLessThan(1e-4);
  });
});
