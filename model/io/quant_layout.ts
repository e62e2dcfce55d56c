// How a quantized checkpoint is laid out in safetensors (model/README.md, "The checkpoint layouts"): each
// quantized weight is a U8 tensor of ggml blocks [rows, bytes per row] under its HF name, and the file's
// `__metadata__` key `llmjp4.quant` maps those names to { format, shape } (the logical [out, in]). Here:
// which weights are quantized, the metadata both ways, and the checks that refuse an inconsistent file.

import { blockLayout, type BlockFormat } from '../../kernels/cpu/quant/blocks.js';
import type { TensorInfo } from './safetensors_read.js';
import type { TensorSpec } from './safetensors_write.js';

export const QUANT_FORMATS: readonly BlockFormat[] = ['q8_0', 'q4_0'];

/** The `__metadata__` key holding the quantized tensors' formats and logical shapes (a JSON string). */
export const QUANT_METADATA_KEY = 'llmjp4.quant';

export interface QuantEntry {
  readonly format: BlockFormat;
  /** The weight's logical shape, e.g. [out, in]. */
  readonly shape: readonly number[];
}

export function isQuantFormat(s: unknown): s is BlockFormat {
  return s === 'q8_0' || s === 'q4_0';
}

/**
 * Which tensors weight-only quantization converts: every Linear weight — the attention and MLP
 * projections, every expert, lm_head. Kept as they are: embed_tokens (a row lookup, not a product),
 * the norms, and the router `mlp.gate` (its logits pick experts; a small error there changes the choice).
 */
export function isQuantizedWeight(name: string, shape: readonly number[]): boolean {
  if (shape.length !== 2) return false;
  return /(^|\.)(q|k|v|o|gate|up|down)_proj\.weight$/.test(name) || name === 'lm_head.weight' || name.endsWith('.lm_head.weight');
}

/** The safetensors entry a quantized weight is stored as: U8 [rows, row bytes] (whole blocks per row). */
export function quantSpec(name: string, format: BlockFormat, shape: readonly number[]): TensorSpec {
  const l = blockLayout(format, shape);
  return { name, dtype: 'U8', shape: [l.rows, l.bytes / l.rows] };
}

/** Metadata for the quantized tensors of one file. */
export function quantMetadata(entries: ReadonlyMap<string, QuantEntry>): Record<string, string> {
  if (entries.size === 0) return {};
  const obj: Record<string, { format: string; shape: number[] }> = {};
  for (const [name, e] of entries) obj[name] = { format: e.format, shape: [...e.shape] };
  return { [QUANT_METADATA_KEY]: JSON.stringify(obj) };
}

/**
 * Read a file's quantized tensors back from its metadata, checking each against the header: the tensor
 * exists, is U8, and holds exactly the blocks its logical shape needs. Errors name the file and tensor.
 */
export function readQuantMetadata(
  file: string,
  metadata: Record<string, string>,
  tensors: ReadonlyMap<string, TensorInfo>,
): Map<string, QuantEntry> {
  const out = new Map<string, QuantEntry>();
  const raw = metadata[QUANT_METADATA_KEY];
  if (raw === undefined) return out;
  const fail = (msg: string): never => {
    throw new Error(`${file}: __metadata__['${QUANT_METADATA_KEY}']: ${msg}`);
  };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    fail(`not JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('not a JSON object');
  for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
    const e = v as { format?: unknown; shape?: unknown };
    if (typeof e !== 'object' || e === null || !isQuantFormat(e.format))
      fail(`tensor '${name}' has format ${JSON.stringify(e?.format)}, expected one of ${QUANT_FORMATS.join(', ')}`);
    const shape = e.shape;
    if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => !Number.isSafeInteger(d) || d <= 0))
      fail(`tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
    const t = tensors.get(name);
    if (!t) fail(`names tensor '${name}', which the file does not hold`);
    let bytes = 0;
    try {
      bytes = blockLayout(e.format as BlockFormat, shape as number[]).bytes;
    } catch (err) {
      fail(`tensor '${name}': ${(err as Error).message}`);
    }
    if (t!.dtype !== 'U8' || t!.end - t!.begin !== bytes)
      fail(
        `tensor '${name}' is ${e.format} [${shape}] (${bytes} bytes of blocks) but the file holds it as ${t!.dtype} [${t!.shape}] (${t!.end - t!.begin} bytes)`,
      );
    out.set(name, { format: e.format as BlockFormat, shape: shape as number[] });
  }
  return out;
}

/**
 * config.json's entry for a quantized checkpoint (HF's `quantization_config` key): which format, the
 * block size, and where each file lists its quantized tensors. Loading reads the files' metadata, not this.
 */
export function quantizationConfig(format: BlockFormat): Record<string, unknown> {
  return { quant_method: 'llmjp4_ggml', format, block_size: 32, metadata_key: QUANT_METADATA_KEY };
}
