// The model commands of the `llmjp4` CLI (pinned interfaces; outside checks call them exactly so):
//   params  --preset NAME | --config FILE [--json]        → {"total": N, "active": N}
//   forward --model DIR --ids "1,2,3;4,5,6" [--json]       → {"logits": [B][T][V], "loss", "aux_loss", "loss_total"}
// `loss` is the causal-LM cross-entropy with labels = ids (HF's shift, one mean over all B·(T−1) targets);
// for MoE `aux_loss` is HF's load-balancing loss and `loss_total` = loss + router_aux_loss_coef·aux_loss
// (for a dense model aux_loss is 0 and loss_total = loss). Numbers are printed in full precision
// (JavaScript's shortest round-trip form of each float32/float64 value).

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { tensor } from '../../../core/index.js';
import { parseConfig } from '../../../model/config.js';
import { countParams } from '../../../model/param_count.js';
import { fromPretrained } from '../../../model/pretrained.js';
import { PRESETS, preset } from '../../../model/presets.js';
import { backendOption, useBackend } from './backend_flag.js';
import { loadHelp, loadOption, loadOptions } from './load_flag.js';

export const paramsHelp = `count parameters without allocating them: --preset NAME (${Object.keys(PRESETS).join(', ')}) | --config FILE [--json]`;
export const forwardHelp = `logits and losses of a checkpoint: --model DIR --ids "1,2,3;4,5,6" [${loadHelp}] [--json] [--backend cpu|gpu [--gpu-mode webgpu|headlessgl|webasm|cpu|auto]]`;

export async function params(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { preset: { type: 'string' }, config: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  if ((values.preset === undefined) === (values.config === undefined))
    throw new Error('give exactly one of --preset NAME or --config FILE');
  const config = values.preset !== undefined ? preset(values.preset) : parseConfig(readJson(values.config!));
  const { total, active } = countParams(config);
  if (values.json) console.log(JSON.stringify({ total, active }));
  else {
    const fmt = (n: number) => `${n.toLocaleString('en-US')} (${(n / 1e9).toFixed(2)} B)`;
    console.log(`${config.model_type}: total ${fmt(total)}, active per token ${fmt(active)}`);
  }
  return 0;
}

export async function forward(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      ids: { type: 'string' },
      ...loadOption,
      json: { type: 'boolean', default: false },
      ...backendOption,
    },
  });
  if (values.model === undefined) throw new Error('--model DIR is required');
  if (values.ids === undefined) throw new Error('--ids "1,2,3;4,5,6" is required');
  const load = loadOptions(values);
  const rows = parseIdRows(values.ids);
  return useBackend(values, async () => {
    const model = fromPretrained(values.model!, load);
    const V = model.config.vocab_size;
    const bad = rows.flat().find((id) => id < 0 || id >= V);
    if (bad !== undefined) throw new Error(`--ids: token ${bad} is outside the vocabulary [0, ${V})`);
    const ids = tensor(Int32Array.from(rows.flat()), { shape: [rows.length, rows[0].length], dtype: 'int32' });
    const out = model.forward(ids, { labels: ids, outputRouterLogits: true });
    // Asynchronous reads: the gpu backend's webgpu mode has no synchronous ones.
    const loss = await out.ceLoss!.item();
    const aux = out.auxLoss ? await out.auxLoss.item() : 0;
    const total = await out.loss!.item();
    const logits = (await out.logits.toArray()) as number[][][];
    if (values.json) console.log(JSON.stringify({ logits, loss, aux_loss: aux, loss_total: total }));
    else {
      console.log(`logits [${out.logits.shape.join(', ')}]`);
      logits.forEach((row, b) => console.log(`  row ${b}, last position: argmax ${argmax(row[row.length - 1])}`));
      console.log(`loss ${loss}\naux_loss ${aux}\nloss_total ${total}`);
    }
    return 0;
  });
}

/** "1,2,3;4,5,6" → [[1,2,3],[4,5,6]]: integer ids, rows of equal length. */
export function parseIdRows(s: string): number[][] {
  const rows = s.split(';').map((r, i) =>
    r
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '')
      .map((p) => {
        if (!/^\d+$/.test(p)) throw new Error(`--ids: '${p}' in row ${i} is not a token id (expected e.g. "1,2,3;4,5,6")`);
        return Number(p);
      }),
  );
  if (rows.some((r) => r.length === 0)) throw new Error('--ids: a row is empty');
  if (rows.some((r) => r.length !== rows[0].length))
    throw new Error(`--ids: rows must have equal lengths, got ${rows.map((r) => r.length).join(', ')}`);
  return rows;
}

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

function argmax(row: number[]): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}
