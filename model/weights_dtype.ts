// Which dtype each weight of a loaded or converted model is kept in, by its HF name: Linear weights
// (attention and MLP projections, every expert, lm_head) in bfloat16/float16 as stored or quantized to
// q8_0/q4_0; norms and the MoE router in float32; embed_tokens as stored. The loader (pretrained.ts) and
// CausalLM.quantize/toStorage ask `storageDtypeFor`; nothing here touches tensors.

import type { DType } from '../core/index.js';

/** 'auto' keeps each tensor's checkpoint dtype (BF16/F16 stay 2 bytes); the others convert every weight. */
export type WeightsDtype = 'auto' | 'float32' | 'float64' | 'bfloat16' | 'float16';

export type QuantFormat = 'q8_0' | 'q4_0';

export interface WeightsDtypeOptions {
  dtype?: WeightsDtype;
  /** Quantize every Linear weight (embed_tokens, norms and the router stay as `dtype` says / float32). */
  quantize?: QuantFormat;
}

/** A Linear weight: q/k/v/o and gate/up/down projections (experts' too, `mlp.experts.3.up_proj.weight`) and lm_head. */
export function isLinearWeight(key: string): boolean {
  return /_proj\.weight$/.test(key) || /(^|\.)lm_head\.weight$/.test(key);
}

/** Weights read by ops that compute in float32 only: every RMSNorm (`…norm.weight`) and the MoE router (`mlp.gate.weight`). */
export function keepsFloat32(key: string): boolean {
  return /norm\.weight$/.test(key) || /(^|\.)mlp\.gate\.weight$/.test(key);
}

/** Our dtype for a checkpoint's dtype: a safetensors name ('BF16', 'F16', 'F32', …) or one of ours. */
function asStored(loaded: string): DType {
  if (loaded === 'BF16' || loaded === 'bfloat16') return 'bfloat16';
  if (loaded === 'F16' || loaded === 'float16') return 'float16';
  if (loaded === 'F64' || loaded === 'float64') return 'float64';
  return 'float32';
}

/**
 * The dtype the weight `key` is kept in, given the dtype it is loaded as (`loaded`: safetensors' 'BF16' or
 * our 'bfloat16', …) and the options. Norms and the router: float32 (float64 in a float64 model).
 */
export function storageDtypeFor(key: string, loaded: string, opts: WeightsDtypeOptions): DType {
  const dtype = opts.dtype ?? 'float32';
  const compute = dtype === 'float64' ? 'float64' : 'float32';
  if (keepsFloat32(key)) return compute;
  if (opts.quantize && isLinearWeight(key)) return opts.quantize;
  if (dtype !== 'auto') return dtype;
  const stored = asStored(loaded);
  // 'auto' keeps what the checkpoint holds; a float64 tensor is kept as float32, the dtype kernels compute in.
  return stored === 'float64' ? 'float32' : stored;
}

/** The per-key policy Module.loadStateDict takes. */
export function weightsPolicy(opts: WeightsDtypeOptions): (key: string, loaded: { dtype: DType }) => DType {
  return (key, t) => storageDtypeFor(key, t.dtype, opts);
}
