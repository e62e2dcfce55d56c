// Rotary embeddings from an HF config: resolve `rope_scaling` (default, llama3, yarn) into the scaling
// core/ops/rope.ts applies, with transformers v4.51's semantics — the version the golden data comes from
// (see SEMANTICS.md: its yarn factor quirk is reproduced and documented below).

import { ropeTables, type DType, type RopeScaling, type Tensor } from '../../core/index.js';
import type { ModelConfig } from '../config.js';

function num(rs: Record<string, unknown>, key: string, fallback?: number): number {
  const v = rs[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new Error(`config: rope_scaling.${key} must be a number, got ${JSON.stringify(rs[key])}`);
  return v;
}

/** yarn's attention scaling: 0.1·mscale·ln(factor) + 1 (1 for factor ≤ 1). */
function yarnMscale(factor: number, mscale = 1): number {
  return factor <= 1 ? 1 : 0.1 * mscale * Math.log(factor) + 1;
}

/** The resolved RoPE scaling of a config. */
export function ropeScaling(c: ModelConfig): RopeScaling {
  const rs = c.rope_scaling;
  if (rs === null) return { type: 'default' };
  const kind = rs.rope_type ?? rs.type;
  if (kind === 'default') return { type: 'default' };
  if (kind === 'llama3') {
    return {
      type: 'llama3',
      factor: num(rs, 'factor'),
      lowFreqFactor: num(rs, 'low_freq_factor'),
      highFreqFactor: num(rs, 'high_freq_factor'),
      originalMaxPositionEmbeddings: num(rs, 'original_max_position_embeddings'),
    };
  }
  // yarn. v4.51 quirk: when rope_scaling names original_max_position_embeddings, the factor used is
  // max_position_embeddings / original, and the given `factor` is ignored (v4.57 uses the given one).
  const hasOriginal = rs.original_max_position_embeddings !== undefined;
  const original = hasOriginal ? num(rs, 'original_max_position_embeddings') : c.max_position_embeddings;
  const factor = hasOriginal ? c.max_position_embeddings / original : num(rs, 'factor');
  const mscale = rs.mscale as number | undefined;
  const mscaleAllDim = rs.mscale_all_dim as number | undefined;
  const attentionFactor =
    (rs.attention_factor as number | undefined) ??
    (mscale && mscaleAllDim ? yarnMscale(factor, mscale) / yarnMscale(factor, mscaleAllDim) : yarnMscale(factor));
  return {
    type: 'yarn',
    factor,
    originalMaxPositionEmbeddings: original,
    betaFast: num(rs, 'beta_fast', 32),
    betaSlow: num(rs, 'beta_slow', 1),
    attentionFactor,
  };
}

/** cos/sin for positions offset..offset+T−1, or for explicit int32 position ids [B, T]. */
export function rotaryTables(
  c: ModelConfig,
  positions: { offset: number; length: number } | Tensor,
  dtype: DType,
): { cos: Tensor; sin: Tensor } {
  return ropeTables(c.head_dim, c.rope_theta, ropeScaling(c), positions, dtype);
}
