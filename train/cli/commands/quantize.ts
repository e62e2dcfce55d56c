// `llmjp4 quantize --model IN --out OUT --format q8_0|q4_0`: a checkpoint whose Linear weights are stored
// in ggml's block format (the layout in model/README.md), so loading it reads the blocks as they are
// instead of quantizing again. One tensor at a time: read, quantize (or copy as stored), write, drop.
// The blocks are the ones `fromPretrained(IN, { quantize })` makes, so both loads give the same model.

import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  DEFAULT_MAX_SHARD_BYTES,
  storeBytes,
  writeCheckpoint,
  type OutTensor,
  type StoreAs,
} from '../../../model/io/checkpoint_writer.js';
import { isQuantFormat, isQuantizedWeight, quantizationConfig, readQuantMetadata } from '../../../model/io/quant_layout.js';
import { SafetensorsFile } from '../../../model/io/safetensors_read.js';
import { CONFIG_NAME, loadConfig, weightFiles } from '../../../model/pretrained.js';
import { CHECKPOINT_TOKENIZER } from '../../checkpoint.js';
import { ProgressBar } from '../../progress.js';

export const quantizeHelp =
  'write a checkpoint with every Linear weight in ggml blocks, reloadable without re-quantizing: --model IN --out OUT --format q8_0|q4_0 [--max-shard-bytes N]';

export async function quantizeCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      out: { type: 'string' },
      format: { type: 'string' },
      'max-shard-bytes': { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
  });
  if (!values.model) throw new Error('--model IN is required (a checkpoint folder)');
  if (!values.out) throw new Error('--out OUT is required');
  if (!isQuantFormat(values.format)) throw new Error(`--format must be q8_0 or q4_0, got '${values.format ?? ''}'`);
  if (resolve(values.model) === resolve(values.out))
    throw new Error('--out must differ from --model (the input is read while the output is written)');
  const maxShardBytes = values['max-shard-bytes'] === undefined ? DEFAULT_MAX_SHARD_BYTES : Number(values['max-shard-bytes']);
  if (!(maxShardBytes > 0)) throw new Error(`--max-shard-bytes must be a positive number, got '${values['max-shard-bytes']}'`);
  const bytes = quantizeCheckpoint(values.model, values.out, values.format, { maxShardBytes, progress: !values.quiet });
  console.log(`${values.out}: ${values.format}, ${(bytes / 1e9).toFixed(2)} GB of weights`);
  return 0;
}

/** Quantize `dir`'s Linear weights into `out`; other tensors are copied as stored. Returns the bytes written. */
export function quantizeCheckpoint(
  dir: string,
  out: string,
  format: 'q8_0' | 'q4_0',
  opts: { maxShardBytes?: number; progress?: boolean } = {},
): number {
  loadConfig(dir); // a folder whose config would not load is refused before anything is written
  const where = weightFiles(dir);
  const files = new Map<string, SafetensorsFile>();
  const fileOf = (path: string) => {
    let f = files.get(path);
    if (!f) {
      if (!existsSync(path)) throw new Error(`quantize: ${path} (named by the index) is missing`);
      files.set(path, (f = SafetensorsFile.open(path)));
      if (readQuantMetadata(path, f.metadata, f.tensors).size > 0) throw new Error(`quantize: ${path} is already quantized`);
    }
    return f;
  };
  try {
    const tensors: OutTensor[] = [...where].map(([name, path]) => {
      const info = fileOf(path).info(name);
      const quantize =
        (info.dtype === 'F32' || info.dtype === 'BF16' || info.dtype === 'F16' || info.dtype === 'F64') &&
        isQuantizedWeight(name, info.shape);
      // Not quantized (embeddings, norms, the router): copied in its stored dtype.
      const as: StoreAs = quantize ? format : storedAs(name, info.dtype);
      return { name, shape: info.shape, as };
    });
    const bar = opts.progress ? new ProgressBar(tensors.length, `quantize ${format}`) : undefined;
    const config = JSON.parse(readFileSync(join(dir, CONFIG_NAME), 'utf8')) as Record<string, unknown>;
    const bytes = writeCheckpoint(
      out,
      { ...config, quantization_config: quantizationConfig(format) },
      tensors,
      (i) => {
        const t = tensors[i]!;
        const f = fileOf(where.get(t.name)!);
        if (t.as === format) {
          const v = f.read(t.name).data;
          return storeBytes(v instanceof Float32Array ? v : Float32Array.from(v), t);
        }
        const raw = f.readRaw(t.name);
        return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
      },
      { maxShardBytes: opts.maxShardBytes, onWritten: () => bar?.tick() },
    );
    bar?.done();
    // The tokenizer travels with the weights, so eval/chat/serve find it in the new folder too.
    if (existsSync(join(dir, CHECKPOINT_TOKENIZER)))
      copyFileSync(join(dir, CHECKPOINT_TOKENIZER), join(out, CHECKPOINT_TOKENIZER));
    return bytes;
  } finally {
    files.forEach((f) => f.close());
  }
}

/** A tensor copied unchanged keeps its stored float dtype. */
function storedAs(name: string, dtype: string): StoreAs {
  if (dtype === 'F32' || dtype === 'F16' || dtype === 'BF16') return dtype;
  throw new Error(`quantize: tensor '${name}' is stored as ${dtype}, which a model checkpoint does not hold here`);
}
