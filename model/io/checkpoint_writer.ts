// Writing a whole HF-layout checkpoint folder one tensor at a time: the tensors' dtypes and shapes are
// known up front (so the shards and their headers are), and each tensor's bytes are asked for only when
// it is written and dropped after — a real-size checkpoint is written with one tensor in memory. Shards
// follow HF (≤ 5 GB, model-0000i-of-0000N.safetensors + model.safetensors.index.json); config.json last.

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { f32ToBf16 } from '../../kernels/cpu/quant/bfloat16.js';
import type { BlockFormat } from '../../kernels/cpu/quant/blocks.js';
import { f32ToF16 } from '../../kernels/cpu/quant/float16.js';
import { quantizeQ4_0 } from '../../kernels/cpu/quant/q4_0.js';
import { quantizeQ8_0 } from '../../kernels/cpu/quant/q8_0.js';
import { writeFileAtomic } from './atomic_write.js';
import { quantMetadata, quantSpec, type QuantEntry } from './quant_layout.js';
import { specBytes, writeSafetensorsStream, type TensorSpec } from './safetensors_write.js';

// The folder's file names (pretrained.ts re-exports them).
export const WEIGHTS_NAME = 'model.safetensors';
export const WEIGHTS_INDEX_NAME = 'model.safetensors.index.json';
export const CONFIG_NAME = 'config.json';

/** HF's default shard size (save_pretrained's max_shard_size = "5GB"). */
export const DEFAULT_MAX_SHARD_BYTES = 5e9;

/** How one tensor is stored: a float dtype, or a ggml block format (a U8 tensor, see quant_layout.ts). */
export type StoreAs = 'F32' | 'F16' | 'BF16' | BlockFormat;

export interface OutTensor {
  readonly name: string;
  /** The logical shape (for a quantized weight, [out, in], not its bytes). */
  readonly shape: readonly number[];
  readonly as: StoreAs;
}

export interface CheckpointWriteOptions {
  maxShardBytes?: number;
  /** Called after each tensor is written, with its index and byte size (a progress bar). */
  onWritten?: (i: number, bytes: number) => void;
}

/** The safetensors entry (and quantization metadata, if any) a tensor is written as. */
export function specOf(t: OutTensor): { spec: TensorSpec; quant?: QuantEntry } {
  if (t.as === 'q8_0' || t.as === 'q4_0')
    return { spec: quantSpec(t.name, t.as, t.shape), quant: { format: t.as, shape: t.shape } };
  return { spec: { name: t.name, dtype: t.as, shape: t.shape } };
}

/** A float32 tensor's bytes as stored: narrowed to F16/BF16 (nearest even) or quantized as ggml does. */
export function storeBytes(values: Float32Array, t: OutTensor): Uint8Array {
  const view = (a: Float32Array | Uint16Array | Uint8Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  switch (t.as) {
    case 'F32':
      return view(values);
    case 'BF16':
      return view(f32ToBf16(values));
    case 'F16':
      return view(f32ToF16(values));
    case 'q8_0':
      return quantizeQ8_0(values, t.shape);
    case 'q4_0':
      return quantizeQ4_0(values, t.shape);
  }
}

/** Greedy sharding in order, as HF does: a new shard when the next tensor would overflow this one. */
export function planShards(sizes: readonly number[], maxBytes: number): number[][] {
  const out: number[][] = [[]];
  let size = 0;
  sizes.forEach((b, i) => {
    if (size > 0 && size + b > maxBytes) (out.push([]), (size = 0));
    out[out.length - 1]!.push(i);
    size += b;
  });
  return out;
}

export const shardName = (i: number, n: number) =>
  `model-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;

/**
 * Write `tensors` (bytes from `bytesOf(i)`, asked in order, once each) as an HF checkpoint in `dir`, then
 * config.json: a folder with a config has complete weights. Returns the bytes of weights written.
 */
export function writeCheckpoint(
  dir: string,
  configJson: Record<string, unknown>,
  tensors: readonly OutTensor[],
  bytesOf: (i: number) => Uint8Array,
  opts: CheckpointWriteOptions = {},
): number {
  const specs = tensors.map(specOf);
  const shards = planShards(
    specs.map((s) => specBytes(s.spec)),
    opts.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES,
  );
  const names = shards.length === 1 ? [WEIGHTS_NAME] : shards.map((_, i) => shardName(i, shards.length));
  const weightMap: Record<string, string> = {};
  let total = 0;
  shards.forEach((members, s) => {
    const quant = new Map<string, QuantEntry>();
    for (const i of members) if (specs[i]!.quant) quant.set(tensors[i]!.name, specs[i]!.quant!);
    const metadata = { format: 'pt', ...quantMetadata(quant) };
    const file = join(dir, names[s]!);
    writeSafetensorsStream(
      file,
      members.map((i) => specs[i]!.spec),
      (k) => {
        const i = members[k]!;
        const b = bytesOf(i);
        total += b.byteLength;
        weightMap[tensors[i]!.name] = names[s]!;
        opts.onWritten?.(i, b.byteLength);
        return b;
      },
      metadata,
    );
  });
  if (shards.length > 1) {
    const index = { metadata: { total_size: total }, weight_map: weightMap };
    writeFileAtomic(join(dir, WEIGHTS_INDEX_NAME), JSON.stringify(index, null, 2) + '\n');
    rmSync(join(dir, WEIGHTS_NAME), { force: true });
  } else {
    rmSync(join(dir, WEIGHTS_INDEX_NAME), { force: true });
  }
  writeFileAtomic(join(dir, CONFIG_NAME), JSON.stringify(configJson, null, 2) + '\n');
  return total;
}
