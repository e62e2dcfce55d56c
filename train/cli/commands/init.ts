// `llmjp4 init (--preset NAME | --config FILE) --dtype float32|bfloat16|float16|q8_0|q4_0 --out DIR [--seed S]`:
// a randomly initialised checkpoint in HF's layout, written one tensor at a time (drawn, converted,
// written, dropped), so real-size checkpoints (the 8B, the 32B-A3B) can be made on this machine without a
// download. The values are createModel(config, { seed }) bit for bit before conversion; q8_0/q4_0 write
// the quantized layout (model/README.md): a bfloat16 checkpoint with every Linear weight quantized.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { bf16ToF32, f32ToBf16 } from '../../../kernels/cpu/quant/bfloat16.js';
import { architecture } from '../../../model/auto.js';
import { configToJSON, parseConfig, type ModelConfig } from '../../../model/config.js';
import { checkpointPlan, PlanValues } from '../../../model/io/checkpoint_plan.js';
import {
  DEFAULT_MAX_SHARD_BYTES,
  specOf,
  storeBytes,
  writeCheckpoint,
  type OutTensor,
} from '../../../model/io/checkpoint_writer.js';
import { isQuantFormat, isQuantizedWeight, quantizationConfig } from '../../../model/io/quant_layout.js';
import { specBytes } from '../../../model/io/safetensors_write.js';
import { PRESETS, preset } from '../../../model/presets.js';
import { ProgressBar } from '../../progress.js';

const INIT_DTYPES = ['float32', 'bfloat16', 'float16', 'q8_0', 'q4_0'] as const;
type InitDtype = (typeof INIT_DTYPES)[number];

export const initHelp =
  `write a randomly initialised HF checkpoint one tensor at a time: (--preset NAME (${Object.keys(PRESETS).join(', ')}) | --config FILE) ` +
  `--dtype ${INIT_DTYPES.join('|')} --out DIR [--seed S] [--max-shard-bytes N (default 5e9)]`;

export async function initCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      preset: { type: 'string' },
      config: { type: 'string' },
      dtype: { type: 'string', default: 'bfloat16' },
      out: { type: 'string' },
      seed: { type: 'string', default: '0' },
      'max-shard-bytes': { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
  });
  if ((values.preset === undefined) === (values.config === undefined))
    throw new Error('give exactly one of --preset NAME or --config FILE');
  if (!values.out) throw new Error('--out DIR is required');
  const dtype = values.dtype as InitDtype;
  if (!INIT_DTYPES.includes(dtype)) throw new Error(`--dtype must be one of ${INIT_DTYPES.join(', ')}, got '${values.dtype}'`);
  const seed = Number(values.seed);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`--seed must be an integer ≥ 0, got '${values.seed}'`);
  const maxShardBytes = values['max-shard-bytes'] === undefined ? DEFAULT_MAX_SHARD_BYTES : Number(values['max-shard-bytes']);
  if (!(maxShardBytes > 0)) throw new Error(`--max-shard-bytes must be a positive number, got '${values['max-shard-bytes']}'`);
  const config = values.preset !== undefined ? preset(values.preset) : parseConfig(readJson(values.config!));

  const bytes = writeRandomCheckpoint(values.out, config, dtype, seed, { maxShardBytes, progress: !values.quiet });
  console.log(`${values.out}: ${config.model_type} ${dtype}, ${(bytes / 1e9).toFixed(2)} GB of weights (seed ${seed})`);
  return 0;
}

/** The plan's tensors stored as `dtype`: q8_0/q4_0 quantize every Linear weight and keep the rest bfloat16. */
export function storedTensors(config: ModelConfig, dtype: InitDtype): OutTensor[] {
  const as = { float32: 'F32', bfloat16: 'BF16', float16: 'F16' } as const;
  return checkpointPlan(config).map((t) => ({
    name: t.name,
    shape: t.shape,
    as: isQuantFormat(dtype) ? (isQuantizedWeight(t.name, t.shape) ? dtype : 'BF16') : as[dtype],
  }));
}

/** Write the checkpoint; returns the bytes of weights written. */
export function writeRandomCheckpoint(
  dir: string,
  config: ModelConfig,
  dtype: InitDtype,
  seed: number,
  opts: { maxShardBytes?: number; progress?: boolean } = {},
): number {
  const plan = checkpointPlan(config);
  const out = storedTensors(config, dtype);
  const total = out.reduce((s, t) => s + specBytes(specOf(t).spec), 0);
  // Progress in MB written: tensor sizes differ by 10,000×, so counting tensors would give a useless ETA.
  const bar = opts.progress ? new ProgressBar(Math.max(1, Math.ceil(total / 1e6)), `init ${dtype} (MB)`) : undefined;
  let written = 0;
  let shown = 0;
  const values = new PlanValues(config, seed);
  const torchDtype = dtype === 'float32' ? 'float32' : dtype === 'float16' ? 'float16' : 'bfloat16';
  const json = { ...configToJSON(config, architecture(config).name), torch_dtype: torchDtype };
  if (isQuantFormat(dtype)) Object.assign(json, { quantization_config: quantizationConfig(dtype) });
  // A quantized init is the bfloat16 checkpoint quantized (what `llmjp4 quantize` makes of a BF16 release):
  // its weights are rounded to bfloat16 before the blocks are computed.
  const draw = (i: number) => {
    const v = values.next(plan[i]!);
    return isQuantFormat(dtype) ? bf16ToF32(f32ToBf16(v), v) : v;
  };
  const bytes = writeCheckpoint(dir, json, out, (i) => storeBytes(draw(i), out[i]!), {
    maxShardBytes: opts.maxShardBytes,
    onWritten: (_i, b) => {
      written += b;
      const mb = Math.floor(written / 1e6);
      if (bar && mb > shown) (bar.tick(mb - shown), (shown = mb));
    },
  });
  bar?.done();
  return bytes;
}

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}
