// Memory bounds from a config alone, checked before anything is built: the parameters a config describes
// (model/param_count.ts) and the KV cache a generation would reserve, against the memory available. A
// config with vocab_size 3e7 or num_hidden_layers 1e6 fails here naming the sizes, not after allocating gigabytes.

import type { ModelConfig } from '../config.js';
import { countParams } from '../param_count.js';
import { BLOCK_BYTES, QK } from '../../kernels/cpu/quant/blocks.js';
import { headroom, loadBudget } from './load_plan.js';

const gb = (b: number) => `${(b / 1e9).toFixed(2)} GB`;

/** The fewest bytes a parameter can be held in (q4_0 blocks): a config that cannot fit so cannot fit at all. */
export const MIN_PARAM_BYTES = BLOCK_BYTES.q4_0 / QK;

/** Which of the config's sizes make it large, in words, so the error names the field to fix. */
function sizesInWords(c: ModelConfig): string {
  const H = c.hidden_size;
  const embeddings = c.vocab_size * H * (c.tie_word_embeddings ? 1 : 2);
  const { total } = countParams(c);
  const parts = [`vocab_size ${c.vocab_size}`, `hidden_size ${H}`, `num_hidden_layers ${c.num_hidden_layers}`];
  if (c.model_type === 'qwen3_moe')
    parts.push(`num_experts ${c.num_experts}`, `moe_intermediate_size ${c.moe_intermediate_size}`);
  else parts.push(`intermediate_size ${c.intermediate_size}`);
  const most =
    embeddings > total / 2
      ? 'vocab_size × hidden_size (the embeddings)'
      : c.model_type === 'qwen3_moe' && c.num_experts * 3 * H * c.moe_intermediate_size > total / (2 * c.num_hidden_layers)
        ? 'num_hidden_layers × num_experts (the experts)'
        : 'num_hidden_layers (the decoder layers)';
  return `${parts.join(', ')}; most of it is ${most}`;
}

/**
 * Refuse a config whose parameters cannot fit in `budget` bytes at `bytesPerParam` each. `where` names the
 * file (config.json) or the caller; the message gives the parameter count, both byte counts and the sizes.
 */
export function checkConfigFits(c: ModelConfig, where: string, bytesPerParam: number, budget = loadBudget(), held = ''): void {
  const { total } = countParams(c);
  const need = total * bytesPerParam;
  if (need <= budget) return;
  throw new Error(
    `${where}: the model it describes has ${total.toExponential(3)} parameters, ${gb(need)}${held ? ` ${held}` : ''}, ` +
      `but ${gb(budget)} of memory is available (free memory less ${gb(headroom())} kept for the rest): ${sizesInWords(c)}`,
  );
}

/** Bytes of a KV cache for `tokens` positions (keys and values, every layer, one sequence). */
export function kvCacheBytes(c: ModelConfig, tokens: number, dtype: 'float32' | 'float64' = 'float32'): number {
  return 2 * c.num_hidden_layers * c.num_key_value_heads * c.head_dim * tokens * (dtype === 'float64' ? 8 : 4);
}

/** Refuse a generation whose KV cache (reserved whole up front) would not fit in the memory left. */
export function checkKvCacheFits(
  c: ModelConfig,
  tokens: number,
  dtype: 'float32' | 'float64' = 'float32',
  budget = loadBudget(),
): void {
  const need = kvCacheBytes(c, tokens, dtype);
  if (need <= budget) return;
  throw new Error(
    `generate: the KV cache for ${tokens} positions (prompt + --max-new-tokens) needs ${gb(need)} (${need} bytes) ` +
      `but ${gb(budget)} of memory is available: lower --max-new-tokens`,
  );
}
