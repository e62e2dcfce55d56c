// Autoregressive generation with a KV cache: the prompt is run once (prefill, in chunks so the logits
// never exceed ~16M values), then one token per forward, each at the next position, until a stop token
// or max new tokens. No autograd graph is built. A batch of equal-length prompts decodes together; each
// row stops on its own. Tokens are streamed through `onToken` as they are chosen.

import { Generator, noGrad, tensor, type Tensor } from '../core/index.js';
import type { CausalLM } from './causal_lm_base.js';
import type { ModelConfig } from './config.js';
import { KVCache } from './kv_cache.js';
import { checkSampling, nextToken, type SamplingOptions } from './sampling.js';

export interface GenerateOptions extends SamplingOptions {
  /** Tokens to generate at most (default 32). */
  maxNewTokens?: number;
  /** Generation of a row ends after it emits one of these (default: the config's eos_token_id; [] never stops). */
  stopTokens?: readonly number[];
  /** Seed of the sampling stream (default 0): the same seed gives the same tokens. */
  seed?: number;
  /**
   * Called with each new token as soon as it is chosen (the stop token included), with its batch row.
   * If it returns a promise, generation waits for it (a web page yields there so the token is painted).
   */
  onToken?: (id: number, row: number) => unknown;
  /** Prompt tokens per prefill forward (default: as many as keep chunk·vocab logits within 2^24). */
  prefillChunk?: number;
}

/** Generate after one prompt: returns the new ids (ending with the stop token when one was hit). */
export function generate(model: CausalLM, prompt: readonly number[], opts?: GenerateOptions): Promise<number[]>;
/** Generate after a batch of equal-length prompts: one list of new ids per prompt. */
export function generate(model: CausalLM, prompts: readonly (readonly number[])[], opts?: GenerateOptions): Promise<number[][]>;
export async function generate(
  model: CausalLM,
  prompt: readonly number[] | readonly (readonly number[])[],
  opts: GenerateOptions = {},
): Promise<number[] | number[][]> {
  const batched = prompt.length > 0 && Array.isArray(prompt[0]);
  const rows = (batched ? prompt : [prompt]) as readonly (readonly number[])[];
  const c = model.config;
  const { maxNewTokens = 32, seed = 0 } = opts;
  checkPrompts(rows, c.vocab_size);
  checkSampling(opts);
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0)
    throw new Error(`generate: maxNewTokens must be a non-negative integer, got ${maxNewTokens}`);
  const [B, P] = [rows.length, rows[0]!.length];
  if (P + maxNewTokens > c.max_position_embeddings) {
    throw new Error(
      `generate: prompt (${P} tokens) + maxNewTokens (${maxNewTokens}) exceeds the model's max_position_embeddings (${c.max_position_embeddings})`,
    );
  }
  const stop = new Set(opts.stopTokens ?? eosTokens(c));
  const generator = new Generator(seed);
  const cache = new KVCache({ capacity: P + maxNewTokens }); // sized to need: no growth while decoding
  const seen = rows.map((r) => [...r]); // the repetition penalty counts the prompt too, as HF does
  const out: number[][] = rows.map(() => []);
  const done = rows.map(() => false);
  if (maxNewTokens === 0) return batched ? out : out[0]!;

  let logits = await prefill(model, rows, cache, opts.prefillChunk);
  for (let step = 0; ; step++) {
    const V = logits.length / B;
    for (let b = 0; b < B; b++) {
      if (done[b]) continue;
      const id = nextToken(logits.subarray(b * V, (b + 1) * V), seen[b]!, opts, generator);
      out[b]!.push(id);
      seen[b]!.push(id);
      if (stop.has(id)) done[b] = true;
      await opts.onToken?.(id, b);
    }
    if (step + 1 === maxNewTokens || done.every(Boolean)) break;
    // A finished row is fed its own last token: rows do not see each other, and its output is unused.
    logits = await forwardLast(
      model,
      out.map((o) => [o.at(-1)!]),
      cache,
    );
  }
  return batched ? out : out[0]!;
}

/** Run the prompts through the model in chunks, filling the cache; the logits at the last position. */
async function prefill(model: CausalLM, rows: readonly (readonly number[])[], cache: KVCache, chunk?: number) {
  const P = rows[0]!.length;
  const size = chunk ?? Math.max(1, Math.floor(2 ** 24 / model.config.vocab_size));
  if (!Number.isInteger(size) || size < 1) throw new Error(`generate: prefillChunk must be a positive integer, got ${chunk}`);
  let logits: Float32Array | Float64Array | undefined;
  for (let start = 0; start < P; start += size) {
    const end = Math.min(P, start + size);
    // Only the last chunk's logits are read; earlier ones are dropped before the next forward.
    const part = rows.map((r) => r.slice(start, end));
    if (end === P) logits = await forwardLast(model, part, cache);
    else noGrad(() => model.forward(idsTensor(model, part), { cache }));
  }
  return logits!;
}

/** One cached forward over ids [B, T]; the logits [B, V] of the last position, read to the host. */
async function forwardLast(
  model: CausalLM,
  ids: readonly (readonly number[])[],
  cache: KVCache,
): Promise<Float32Array | Float64Array> {
  const T = ids[0]!.length;
  const last: Tensor = noGrad(() => model.forward(idsTensor(model, ids), { cache }).logits.narrow(1, T - 1, 1)); // [B, 1, V]
  return (await last.data()) as Float32Array | Float64Array;
}

/** Equal-length rows of token ids as an int32 [B, T] tensor on the model's backend. */
export function idsTensor(model: CausalLM, ids: readonly (readonly number[])[]): Tensor {
  const backend = model.lm_head.weight.storage.backend;
  return tensor(Int32Array.from(ids.flat()), { dtype: 'int32', shape: [ids.length, ids[0]!.length], backend });
}

/** The config's eos_token_id as a list (HF allows one id or several). */
export function eosTokens(c: ModelConfig): number[] {
  const e = c.eos_token_id;
  return e === null ? [] : Array.isArray(e) ? [...e] : [e];
}

function checkPrompts(rows: readonly (readonly number[])[], V: number): void {
  if (rows.length === 0 || rows[0]!.length === 0)
    throw new Error('generate: the prompt is empty (give at least one token, e.g. BOS)');
  const P = rows[0]!.length;
  rows.forEach((r, b) => {
    if (r.length !== P)
      throw new Error(`generate: batched prompts must have one length; row 0 has ${P} tokens, row ${b} has ${r.length}`);
    for (const id of r) {
      if (!Number.isInteger(id) || id < 0 || id >= V)
        throw new Error(`generate: prompt token ${id} (row ${b}) is outside the vocabulary [0, ${V})`);
    }
  });
}
