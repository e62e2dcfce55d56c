// What each tensor of a checkpoint becomes when loaded, and the memory that takes — decided from the
// safetensors headers and the load options alone, before anything is allocated, so a model that cannot
// fit (or a weight a format cannot hold) is refused up front with a message saying what would fit.
// The per-tensor rule: quantized tensors stay as stored; `--quantize` turns every Linear weight into its
// block format; `--dtype auto` keeps BF16/F16 weights 16-bit; norms and the router compute in float32.

import { freemem, totalmem } from 'node:os';
import { BLOCK_BYTES, QK, type BlockFormat } from '../../kernels/cpu/quant/blocks.js';
import { isQuantizedWeight, type QuantEntry } from './quant_layout.js';
import { ST_DTYPES, type StDType, type TensorInfo } from './safetensors_read.js';

/** `--dtype`: keep 16-bit weights as stored (auto), or hold every floating weight in one dtype. */
export type LoadDtype = 'auto' | 'float32' | 'float64' | 'bfloat16' | 'float16';

export const LOAD_DTYPES: readonly LoadDtype[] = ['auto', 'float32', 'float64', 'bfloat16', 'float16'];

/** What a tensor is held as in memory. */
export type HeldDtype = 'float32' | 'float64' | 'bfloat16' | 'float16' | BlockFormat | 'int32' | 'bool';

export interface LoadChoice {
  dtype: LoadDtype;
  quantize?: BlockFormat;
}

/** Where a tensor is and how the file stores it. */
export interface TensorSource {
  readonly file: string;
  readonly info: TensorInfo;
  /** Set when the file stores it quantized (its logical shape and format). */
  readonly quant?: QuantEntry;
}

export interface PlannedLoad {
  readonly name: string;
  readonly file: string;
  readonly info: TensorInfo;
  /** Set when the file stores it quantized (its logical shape and format). */
  readonly quant?: QuantEntry;
  readonly shape: readonly number[];
  readonly held: HeldDtype;
  /** Bytes it takes once loaded. */
  readonly bytes: number;
  /** Bytes held only while it is converted (the stored bytes and a float32 copy), 0 when read as is. */
  readonly transient: number;
}

/** Bytes of a tensor of `shape` held as `dtype` (block formats: 34 or 18 bytes per 32 weights). */
export function heldBytes(dtype: HeldDtype, shape: readonly number[]): number {
  const n = shape.reduce((a, b) => a * b, 1);
  if (dtype === 'q8_0' || dtype === 'q4_0') return (n / QK) * BLOCK_BYTES[dtype];
  return n * { float32: 4, float64: 8, bfloat16: 2, float16: 2, int32: 4, bool: 1 }[dtype];
}

/** Values converted at once: about 16M (64 MB as float32). LLMJP4_CONVERT_CHUNK_VALUES lowers it (tests). */
export const CHUNK_VALUES = 1 << 24;

/** Elements converted at once for a tensor of `shape`: whole rows (at least one), up to CHUNK_VALUES. */
export function chunkElements(shape: readonly number[]): number {
  const env = Number(process.env.LLMJP4_CONVERT_CHUNK_VALUES);
  const limit = Number.isSafeInteger(env) && env > 0 ? Math.min(env, CHUNK_VALUES) : CHUNK_VALUES;
  const n = shape.reduce((a, b) => a * b, 1);
  const cols = shape[shape.length - 1] ?? 1;
  return Math.min(n, Math.max(1, Math.floor(limit / Math.max(cols, 1))) * cols);
}

/** Only Linear weights and the embedding are read by kernels that take 16-bit or block storage. */
function storable(name: string, shape: readonly number[]): boolean {
  return isQuantizedWeight(name, shape) || /(^|\.)embed_tokens\.weight$/.test(name);
}

/** The dtype a tensor is held in under `choice` (compute: the model's float dtype, float32 or float64). */
export function heldDtype(name: string, info: TensorInfo, quant: QuantEntry | undefined, choice: LoadChoice): HeldDtype {
  if (quant) {
    if (choice.quantize && choice.quantize !== quant.format)
      throw new Error(
        `tensor '${name}' is stored as ${quant.format}; --quantize ${choice.quantize} would quantize quantized weights (load the float checkpoint instead)`,
      );
    return quant.format;
  }
  const to = ST_DTYPES[info.dtype].to;
  if (to !== 'float32' && to !== 'float64') return to;
  const compute = choice.dtype === 'float64' ? 'float64' : 'float32';
  if (!storable(name, info.shape)) return compute;
  if (choice.quantize && isQuantizedWeight(name, info.shape)) return choice.quantize;
  if (choice.dtype === 'bfloat16' || choice.dtype === 'float16') return choice.dtype;
  if (choice.dtype === 'auto') return info.dtype === 'BF16' ? 'bfloat16' : info.dtype === 'F16' ? 'float16' : compute;
  return compute;
}

/** Held as read: the file's bytes are the final array (no conversion, no second copy). */
function asStored(st: StDType, held: HeldDtype, quant: QuantEntry | undefined): boolean {
  if (quant) return true;
  return (
    (st === 'F32' && held === 'float32') ||
    (st === 'F64' && held === 'float64') ||
    (st === 'BF16' && held === 'bfloat16') ||
    (st === 'F16' && held === 'float16') ||
    (st === 'I32' && held === 'int32')
  );
}

/** Plan every tensor's load; refuses a weight its format cannot hold (a row not a multiple of 32), naming it. */
export function planLoad(tensors: ReadonlyMap<string, TensorSource>, choice: LoadChoice): PlannedLoad[] {
  const out: PlannedLoad[] = [];
  for (const [name, { file, info, quant }] of tensors) {
    const held = heldDtype(name, info, quant, choice);
    const shape = quant ? quant.shape : info.shape;
    if ((held === 'q8_0' || held === 'q4_0') && !quant && (shape[shape.length - 1] ?? 0) % QK !== 0)
      throw new Error(
        `${file}: tensor '${name}' [${shape}] cannot be ${held}: its rows (the last dimension) must be a multiple of ${QK}`,
      );
    const bytes = heldBytes(held, shape);
    const stored = info.end - info.begin;
    const n = shape.reduce((a, b) => a * b, 1);
    // Read as stored, the file's bytes land in the final array. Converting goes a chunk of rows at a
    // time: that chunk's stored bytes, its float32 values and (block formats) its blocks.
    const m = chunkElements(shape);
    const transient = asStored(info.dtype, held, quant) ? 0 : (m * stored) / Math.max(n, 1) + 4 * m + heldBytes(held, [m]);
    out.push({ name, file, info, quant, shape, held, bytes, transient });
  }
  return out;
}

/** Memory this process may still use: what the OS (and a cgroup limit, when Node knows one) says is available. */
export function availableMemory(): number {
  const p = process as { availableMemory?: () => number };
  return p.availableMemory?.() ?? freemem();
}

/** Kept free for everything else the process holds (activations, the KV cache, the runtime): 5% of RAM + 512 MiB. */
export function headroom(total = totalmem()): number {
  return Math.round(0.05 * total) + 512 * 2 ** 20;
}

const gb = (b: number) => `${(b / 1e9).toFixed(2)} GB`;

/** The bytes a load may use: what is available less the headroom, or a budget given by the caller (tests). */
export function loadBudget(given?: number): number {
  if (given !== undefined) return given;
  // A browser (the playground) cannot measure free memory; the tab's limit is the browser's to enforce.
  if (typeof process === 'undefined' || typeof process.versions?.node !== 'string') return Infinity;
  return availableMemory() - headroom();
}

/**
 * Refuse a load that cannot fit, before allocating: the weights' bytes in their held dtypes plus the
 * largest tensor's conversion buffers, against the budget (available memory less headroom). The message
 * names the folder, both numbers, and the options that would make it fit.
 */
export function checkFits(dir: string, plan: readonly PlannedLoad[], choice: LoadChoice, budget = loadBudget()): void {
  const weights = plan.reduce((s, t) => s + t.bytes, 0);
  const transient = plan.reduce((m, t) => Math.max(m, t.transient), 0);
  const need = weights + transient;
  if (need <= budget) return;
  // What each smaller option would take, so the message can say which ones fit.
  const options: [string, LoadChoice][] = [
    ['--dtype auto', { dtype: 'auto' }],
    ['--quantize q8_0', { dtype: 'auto', quantize: 'q8_0' }],
    ['--quantize q4_0', { dtype: 'auto', quantize: 'q4_0' }],
  ];
  const fits: string[] = [];
  for (const [flag, c] of options) {
    if (c.dtype === choice.dtype && c.quantize === choice.quantize) continue;
    try {
      const b = plan.reduce((s, t) => s + heldBytes(heldDtype(t.name, t.info, t.quant, c), t.shape), 0);
      if (b <= budget) fits.push(`${flag} (${gb(b)})`);
    } catch {
      // an option the checkpoint cannot take (already quantized in another format) is not offered
    }
  }
  const fix =
    fits.length > 0
      ? `; it would fit with ${fits.join(' or ')}`
      : '; no smaller format fits either: use a machine with more memory';
  throw new Error(
    `${dir}: the model needs ${gb(need)} (${gb(weights)} of weights as loaded, ${gb(transient)} to convert the largest tensor) ` +
      `but ${gb(budget)} of memory is available to it (free memory less ${gb(headroom())} kept for the rest)${fix}`,
  );
}
