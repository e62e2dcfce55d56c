// Long context and decoding. A tiny-width Llama (H 64, 2 layers, 1 head of 64, vocab 256) runs one
// forward over 8,192 and 65,536 tokens — LLM-jp-4's context — which fits in memory only because flash
// attention never builds the T×T scores (at 65,536 they would be 16 GiB per head in float32); the time
// and peak memory are reported. And KV-cache decoding with tiny-llama: single-token steps after a prompt.
// The 65,536 case takes minutes on 2 cores, so it runs once, without warm-up. One run on this project's
// 2-core machine while it was shared (load 5–8): T 8,192 in 3.7 s (5.1 GFLOP/s, peak +143 MiB); T 65,536
// in 548–602 s (peak +0.65–0.96 GiB) — attention is 90% of the FLOPs, so unshared it is ~64× the 8,192 case.

import { argmax } from '../../model/sampling.js';
import { createModel, type CausalLM } from '../../model/causal_lm.js';
import { KVCache } from '../../model/kv_cache.js';
import { preset } from '../../model/presets.js';
import { Generator, noGrad, tensor, type Tensor } from '../../core/index.js';
import type { BenchCase, SuiteOptions } from './types.js';

const TINY_WIDTH = {
  vocab_size: 256,
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 2,
  num_attention_heads: 1,
  num_key_value_heads: 1,
  head_dim: 64,
  max_position_embeddings: 65536,
  rope_theta: 500000,
};

function randomIds(n: number, vocab: number, seed: number): Tensor {
  const g = new Generator(seed);
  return tensor(
    Int32Array.from({ length: n }, () => g.nextInt(vocab)),
    { dtype: 'int32', shape: [1, n] },
  );
}

/** Forward FLOPs: 2 per weight per token, plus causal attention's 4·T²·HS/2 per head and layer. */
function forwardFlops(m: CausalLM, T: number): number {
  const c = m.config;
  const weights = [...m.parameters()].reduce((n, p) => n + p.numel(), 0) - c.vocab_size * c.hidden_size; // the lookup is free
  return 2 * weights * T + c.num_hidden_layers * c.num_attention_heads * 2 * T * T * c.head_dim;
}

/**
 * Decoding after a prompt prefilled once: each call crops the cache back to the prompt and runs
 * `steps` greedy single-token steps, so only the steps are timed.
 */
function decoder(m: CausalLM, prompt: Tensor, steps: number): () => void {
  const P = prompt.shape[1];
  const cache = new KVCache({ capacity: P + steps });
  let first: ArrayLike<number> | undefined; // the prefill, on first use (building the suite stays cheap)
  return () =>
    noGrad(() => {
      first ??= m
        .forward(prompt, { cache })
        .logits.narrow(1, P - 1, 1)
        .dataSync();
      cache.crop(P);
      let last: ArrayLike<number> = first;
      for (let s = 0; s < steps; s++) last = m.forward(tensor([[argmax(last)]], { dtype: 'int32' }), { cache }).logits.dataSync();
    });
}

export function longContextCases(opts: SuiteOptions): BenchCase[] {
  const cases: BenchCase[] = [];
  const model = createModel(preset('tiny-llama', { ...TINY_WIDTH }), { dtype: opts.dtype, seed: 0 });
  for (const T of opts.quick ? [256] : [8192, 65536]) {
    const ids = randomIds(T, TINY_WIDTH.vocab_size, T);
    cases.push({
      label: `forward T=${T} tiny-width (H 64, 2 layers, 1 head × 64, flash attention)`,
      run: () => noGrad(() => model.forward(ids).logits),
      flops: forwardFlops(model, T),
      tokens: T,
      peakMemory: true,
      minSamples: 1,
      warmup: T < 8192,
    });
  }
  const tiny = createModel(preset('tiny-llama'), { dtype: opts.dtype, seed: 0 });
  const [P, N] = opts.quick ? [8, 4] : [512, 64];
  const prompt = randomIds(P, tiny.config.vocab_size, 1);
  cases.push({
    label: `prefill tiny-llama: ${P} tokens`,
    run: () => noGrad(() => tiny.forward(prompt, { cache: new KVCache() }).logits),
    tokens: P,
    minSamples: 3,
  });
  cases.push({
    label: `decode tiny-llama: ${N} single-token steps after ${P}`,
    run: decoder(tiny, prompt, N),
    tokens: N,
    minSamples: 3,
  });
  return cases;
}
