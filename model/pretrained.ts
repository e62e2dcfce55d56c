// Hugging Face checkpoints in and out: a folder with config.json and model.safetensors (or shards
// model-0000i-of-0000n.safetensors with model.safetensors.index.json), HF parameter names, and
// `__metadata__.format = "pt"` so transformers' `from_pretrained` accepts it. Every file is written
// atomically; config.json is written last, so a folder with a config has complete weights. Loading
// reads one tensor at a time into its final dtype (kept as stored, converted or quantized on load) after
// checking every shard and that the model fits in memory (io/checkpoint_reader.ts, io/load_plan.ts).

import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tensor, type Tensor } from '../core/index.js';
import { storageBytes } from '../core/dtype.js';
import type { BlockFormat } from '../kernels/cpu/quant/blocks.js';
import { architecture } from './auto.js';
import { createModel } from './create_model.js';
import type { CausalLM, ModelOptions } from './causal_lm_base.js';
import { configToJSON, parseConfig, type ModelConfig } from './config.js';
import { writeFileAtomic } from './io/atomic_write.js';
import { checkConfigFits, MIN_PARAM_BYTES } from './io/model_memory.js';
import { refuseNonFiniteFloats, refuseNonFloat } from './io/weight_checks.js';
import { openCheckpoint, weightFileMap, type CheckpointOpenOptions } from './io/checkpoint_reader.js';
import { CONFIG_NAME, WEIGHTS_INDEX_NAME, WEIGHTS_NAME } from './io/checkpoint_writer.js';
import type { LoadDtype } from './io/load_plan.js';
import { SafetensorsFile } from './io/safetensors_read.js';
import { saveSafetensors, storedBytes, type WriteOptions } from './io/safetensors_write.js';

export { CONFIG_NAME, WEIGHTS_INDEX_NAME, WEIGHTS_NAME };

export interface LoadOptions extends Omit<ModelOptions, 'dtype'>, CheckpointOpenOptions {
  /**
   * How floating weights are held: 'float32' (the default) or 'float64' for everything; 'auto' keeps
   * BF16/F16 weights 16-bit as stored; 'bfloat16'/'float16' hold every Linear weight and the embedding
   * so. Norms and the router compute in float32 (float64 with 'float64'). Default: 'float32', or 'auto'
   * with `quantize`.
   */
  dtype?: LoadDtype;
  /** Quantize every Linear weight on load (ggml's q8_0 or q4_0 blocks). */
  quantize?: BlockFormat;
}

export interface SaveOptions {
  /** Split the weights into shards of at most this many bytes (HF's default is 5 GB). */
  maxShardBytes?: number;
  /** Store floating parameters as F32 (default), F16, BF16 or F64. */
  floatDtype?: WriteOptions['floatDtype'];
}

/** Read config.json from a checkpoint folder. */
export function loadConfig(dir: string): ModelConfig {
  const path = join(dir, CONFIG_NAME);
  if (!existsSync(path)) throw new Error(`fromPretrained: ${dir} has no ${CONFIG_NAME}`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
  try {
    return parseConfig(json as Record<string, unknown>);
  } catch (e) {
    // parseConfig names the field; the file is named here, where it is known.
    throw new Error(`${path}: ${(e as Error).message.replace(/^config: /, '')}`);
  }
}

/** Which file holds each tensor (one file, or the shard index's weight_map). */
export function weightFiles(dir: string): Map<string, string> {
  return weightFileMap(dir);
}

/** Open every file of a checkpoint and return a getter by HF name (files stay open until `close`). */
export function openWeights(dir: string): { get: (name: string) => Tensor | undefined; names: string[]; close: () => void } {
  const where = weightFiles(dir);
  const files = new Map<string, SafetensorsFile>();
  const open = (path: string) => {
    let f = files.get(path);
    if (!f) files.set(path, (f = SafetensorsFile.open(path)));
    return f;
  };
  return {
    names: [...where.keys()],
    get: (name) => {
      const path = where.get(name);
      if (!path) return undefined;
      const r = open(path).read(name);
      return tensor(r.data, { shape: r.shape, dtype: r.dtype });
    },
    close: () => files.forEach((f) => f.close()),
  };
}

/**
 * Build the model a checkpoint folder describes and load its weights (strict: missing and unexpected keys
 * are errors). A missing shard, a corrupt header or a model larger than the memory available fails before
 * any weight is allocated; then tensors are read one at a time into their final dtype.
 */
export function fromPretrained(dir: string, opts: LoadOptions = {}): CausalLM {
  const config = loadConfig(dir);
  // Quantizing is for memory: unless told otherwise, the weights it leaves (the embedding) stay as stored too.
  const dtype = opts.dtype ?? (opts.quantize ? 'auto' : 'float32');
  const w = openCheckpoint(dir, { dtype, quantize: opts.quantize }, opts);
  try {
    // The files' headers fit (checked on opening); now config.json's sizes, before a layer is built: a
    // vocab_size or layer count far past the weights would otherwise build millions of placeholders first.
    checkConfigFits(config, join(dir, CONFIG_NAME), MIN_PARAM_BYTES, opts.availableBytes, 'even as q4_0 blocks');
    const model = createModel(config, {
      dtype: dtype === 'float64' ? 'float64' : 'float32',
      seed: opts.seed,
      init: 'empty',
    });
    // Each tensor arrives in the dtype the load plan chose for it: the model keeps it so.
    loadStrict(model, w, dir, (_key, t) => t.dtype);
    return model;
  } finally {
    w.close();
  }
}

/**
 * The same from a checkpoint already in memory — config.json's object and the bytes of each weight
 * file (one, or every shard) — as the browser playground has it after fetching the files.
 */
export function fromPretrainedBytes(
  configJson: Record<string, unknown>,
  files: readonly { name: string; bytes: Uint8Array }[],
  opts: ModelOptions = {},
): CausalLM {
  const model = createModel(parseConfig(configJson), opts);
  const where = new Map<string, SafetensorsFile>();
  for (const { name, bytes } of files) {
    const f = SafetensorsFile.fromBytes(bytes, name);
    for (const t of f.tensors.keys()) {
      if (where.has(t)) throw new Error(`fromPretrainedBytes: tensor '${t}' is in both ${where.get(t)!.path} and ${name}`);
      where.set(t, f);
    }
  }
  const get = (name: string) => {
    const f = where.get(name);
    if (!f) return undefined;
    refuseNonFloat(f.path, name, f.info(name).dtype);
    const r = f.read(name);
    if (r.data instanceof Float32Array || r.data instanceof Float64Array) refuseNonFiniteFloats(f.path, name, r.data);
    return tensor(r.data, { shape: r.shape, dtype: r.dtype });
  };
  loadStrict(model, { get, names: [...where.keys()] }, files.map((f) => f.name).join(', '));
  return model;
}

/** Load every parameter by HF name; a tensor the config does not use is an error (rotary inv_freq buffers aside). */
function loadStrict(
  model: CausalLM,
  w: { get: (name: string) => Tensor | undefined; names: string[] },
  where: string,
  dtype: Parameters<CausalLM['loadStateDict']>[1] = model.dtype,
): void {
  const used = model.loadStateDict(w.get, dtype);
  const extra = w.names.filter((n) => !used.has(n) && !n.endsWith('rotary_emb.inv_freq'));
  if (extra.length > 0) {
    throw new Error(
      `fromPretrained: ${where} has ${extra.length} tensor(s) this ${model.config.model_type} config does not use: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', …' : ''}`,
    );
  }
}

/** The bytes the model's parameters take as held (storage dtypes at their stored size; a tied weight once). */
export function weightsBytes(model: CausalLM): number {
  return model.parameters().reduce((s, t) => s + storageBytes(t.dtype, t.shape), 0);
}

/** Write config.json and the weights (one file, or shards with an index) in the HF layout. */
export function savePretrained(model: CausalLM, dir: string, opts: SaveOptions = {}): void {
  const state = model.stateDict();
  const wopts: WriteOptions = { metadata: { format: 'pt' }, floatDtype: opts.floatDtype };
  const shards = shard(state, opts.maxShardBytes ?? 5e9, wopts);
  if (shards.length === 1) {
    saveSafetensors(join(dir, WEIGHTS_NAME), shards[0], wopts);
    rmSync(join(dir, WEIGHTS_INDEX_NAME), { force: true });
  } else {
    const n = shards.length;
    const name = (i: number) => `model-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;
    const weightMap: Record<string, string> = {};
    let total = 0;
    shards.forEach((s, i) => {
      saveSafetensors(join(dir, name(i)), s, wopts);
      for (const [k, t] of s) ((weightMap[k] = name(i)), (total += storedBytes(t, wopts)));
    });
    writeFileAtomic(
      join(dir, WEIGHTS_INDEX_NAME),
      JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2) + '\n',
    );
    rmSync(join(dir, WEIGHTS_NAME), { force: true });
  }
  writeFileAtomic(
    join(dir, CONFIG_NAME),
    JSON.stringify(configToJSON(model.config, architecture(model.config).name), null, 2) + '\n',
  );
}

/** Greedy sharding in state-dict order, as HF does: start a new shard when the next tensor would overflow. */
function shard(state: Map<string, Tensor>, maxBytes: number, wopts: WriteOptions): Map<string, Tensor>[] {
  const out: Map<string, Tensor>[] = [new Map()];
  let size = 0;
  for (const [k, t] of state) {
    const b = storedBytes(t, wopts);
    if (size > 0 && size + b > maxBytes) (out.push(new Map()), (size = 0));
    out[out.length - 1].set(k, t);
    size += b;
  }
  return out;
}
