// A training stage as a JSON file: what it trains (a preset, or the checkpoint of the previous stage),
// on which data (pre-training mixture, mid-training mix, or SFT), for how long, with which optimizer,
// schedule and MoE loss coefficients, and how often it evaluates and checkpoints. Field names follow
// the HF/JSON convention (snake_case). Every field is checked once here, at every depth, by the strict
// schema of config_schema.ts: an unknown key, a wrong type or an out-of-range value is an error naming it.

import { readFileSync } from 'node:fs';
import { PRESETS, preset } from '../model/presets.js';
import {
  bool,
  checkKeys,
  configError,
  int,
  nearest,
  nullable,
  num,
  object,
  oneOf,
  optional,
  record,
  str,
  tuple,
} from './config_schema.js';
import { HF_SCHEDULES, scheduleFromHf, validateSchedule, type Schedule } from './schedule.js';

export type StageKind = 'pretrain' | 'midtrain' | 'sft';

export interface StageConfig {
  /** Which of the three LLM-jp-4 stages this is: it picks the batch stream. */
  stage: StageKind;
  /** Where checkpoints, metrics, plots and the final model go. */
  out: string;
  /** A fresh model: a preset name plus HF config overrides (vocab_size defaults to the tokenizer's). */
  model?: { preset: string; config?: Record<string, unknown>; seed?: number };
  /** Or continue from an HF-layout folder (the previous stage's `final`). */
  init_from?: string;
  data: {
    /** A SentencePiece .model; default: init_from's tokenizer.model, else the small trained tokenizer. */
    tokenizer?: string;
    vocab_size?: number;
    corpus_dir?: string;
    cache_dir?: string;
    /** Sub-corpus weights (default: LLM-jp-4's shares of those present). */
    weights?: Record<string, number>;
    /** Mid-training: the share of instruction text (default 0.5). */
    instruct_share?: number;
    /** SFT: pack records end to end (default) or one padded record per row. */
    sft_mode?: 'pack' | 'pad';
    /** Add the project's source code as the `code` sub-corpus (default true). */
    code?: boolean;
    /** Characters per document when texts are cut up (default 2000). */
    doc_chars?: number;
    /** Share of each sub-corpus held out for validation (default 0.05). */
    valid_fraction?: number;
  };
  steps: number;
  batch_size: number;
  seq_len: number;
  /** Micro-batches per step (gradient accumulation; default 1). */
  micro_batches: number;
  seed: number;
  optimizer: { lr: number; betas: [number, number]; eps: number; weight_decay: number; max_grad_norm: number | null };
  schedule: Schedule;
  /** MoE only: load-balancing and router z-loss coefficients (LLM-jp-4: 1e-2 and 1e-3). */
  moe: { aux_loss_coef?: number; z_loss_coef: number };
  eval: { every: number; max_tokens: number; seq_len?: number };
  checkpoint: { every: number; keep_last: number };
}

/** Read and check a stage config file; every error names the file and the field. */
export function readStageConfig(path: string): StageConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: cannot read the stage config: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON: ${(e as Error).message}`);
  }
  return parseStageConfig(json, path);
}

const count = int(0);
// Each schedule kind takes exactly its own fields (the HF function each follows is named in schedule.ts).
const SCHEDULES = {
  constant: object({ kind: str(), warmup_steps: optional(count, 0) }),
  wsd: object({
    kind: str(),
    warmup_steps: optional(count, 0),
    stable_steps: count,
    decay_steps: count,
    decay_type: optional(oneOf(['1-sqrt', 'linear', 'cosine'] as const)),
    min_lr_ratio: optional(num({ min: 0, max: 1 })),
  }),
  cosine: object({
    kind: str(),
    warmup_steps: optional(count, 0),
    total_steps: count,
    min_lr_ratio: optional(num({ min: 0, max: 1 })),
  }),
};

const STAGE = object({
  comment: optional(str()),
  stage: oneOf(['pretrain', 'midtrain', 'sft'] as const),
  out: str(true),
  model: optional(
    object({
      preset: str(true),
      config: optional(record({ expected: 'a JSON value', parse: (v) => v })),
      seed: optional(int(0)),
    }),
  ),
  init_from: optional(str(true)),
  data: optional(
    object({
      tokenizer: optional(str(true)),
      vocab_size: optional(int(1)),
      corpus_dir: optional(str(true)),
      cache_dir: optional(str(true)),
      weights: optional(record(num({ min: 0 }))),
      instruct_share: optional(num({ gt: 0, lt: 1 })),
      sft_mode: optional(oneOf(['pack', 'pad'] as const)),
      code: optional(bool),
      doc_chars: optional(int(1)),
      valid_fraction: optional(num({ min: 0, lt: 1 })),
    }),
    {},
  ),
  steps: int(1),
  batch_size: int(1),
  seq_len: int(2),
  micro_batches: optional(int(1), 1),
  seed: optional(int(0), 0),
  optimizer: object({
    lr: num({ min: 0 }),
    betas: optional(tuple([num({ min: 0, lt: 1 }), num({ min: 0, lt: 1 })]), [0.9, 0.95]),
    eps: optional(num({ min: 0 }), 1e-8),
    weight_decay: optional(num({ min: 0 }), 0.1),
    max_grad_norm: optional(nullable(num({ gt: 0 })), 1.0),
  }),
  schedule: { expected: 'a JSON object with a kind', parse: (v: unknown) => v as Record<string, unknown> },
  moe: optional(object({ aux_loss_coef: optional(num({ min: 0 })), z_loss_coef: optional(num({ min: 0 }), 1e-3) }), {
    z_loss_coef: 1e-3,
  }),
  eval: optional(object({ every: optional(int(1)), max_tokens: optional(int(1), 4096), seq_len: optional(int(2)) }), {
    max_tokens: 4096,
  }),
  checkpoint: optional(object({ every: optional(int(1)), keep_last: optional(int(1), 2) }), { keep_last: 2 }),
});

/** Defaults filled in and every field checked, at every depth; `where` (the file) prefixes errors. */
export function parseStageConfig(json: unknown, where = 'stage config'): StageConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw configError(
      where,
      '',
      `must be a JSON object (a stage config), got ${json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json}`,
    );
  const j = STAGE.parse(json, '', where);
  if ((j.model === undefined) === (j.init_from === undefined))
    throw configError(where, 'model', 'or init_from: give exactly one (a fresh preset, or the folder to continue from)');
  if (j.model) checkModelOverrides(j.model.preset, j.model.config ?? {}, j.seq_len, j.eval.seq_len, where);
  const schedule = scheduleOf(j.schedule, j.optimizer.lr, where);
  const { comment: _comment, ...rest } = j;
  return {
    ...rest,
    optimizer: { ...j.optimizer, betas: [j.optimizer.betas[0], j.optimizer.betas[1]] },
    schedule,
    eval: { every: j.eval.every ?? j.steps, max_tokens: j.eval.max_tokens ?? 4096, seq_len: j.eval.seq_len },
    checkpoint: { every: j.checkpoint.every ?? j.steps, keep_last: j.checkpoint.keep_last ?? 2 },
    moe: { aux_loss_coef: j.moe.aux_loss_coef, z_loss_coef: j.moe.z_loss_coef ?? 1e-3 },
  };
}

/**
 * `model.config` overrides a preset's HF config: each key must be one the model's config has (the nearest
 * is named otherwise — a misspelt key used to be written into the final config.json and ignored), of the
 * same JSON type as the preset's value, and the whole must parse; seq_len must fit max_position_embeddings.
 */
function checkModelOverrides(
  name: string,
  overrides: Record<string, unknown>,
  seqLen: number,
  evalSeqLen: number | undefined,
  where: string,
) {
  if (!(name in PRESETS)) {
    const near = nearest(name, Object.keys(PRESETS));
    const hint = near ? `; did you mean ${near}?` : '';
    throw configError(
      where,
      'model.preset',
      `must be one of ${Object.keys(PRESETS).join(', ')}, got ${JSON.stringify(name)}${hint}`,
    );
  }
  const base = preset(name) as unknown as Record<string, unknown>;
  checkKeys(Object.keys(overrides), Object.keys(base), 'model.config', where);
  for (const [k, v] of Object.entries(overrides)) {
    const want = base[k];
    const kind = (x: unknown) => (x === null ? 'null' : Array.isArray(x) ? 'array' : typeof x);
    // Keys whose default is null (pad_token_id, rope_scaling) take a value of any type; parseConfig checks it.
    if (want !== null && v !== null && kind(want) !== kind(v))
      throw configError(
        where,
        `model.config.${k}`,
        `must be a JSON ${kind(want)} (as in the preset: ${JSON.stringify(want)}), got ${JSON.stringify(v)}`,
      );
  }
  let config: { max_position_embeddings: number };
  try {
    config = preset(name, overrides);
  } catch (e) {
    throw configError(where, 'model.config', (e as Error).message);
  }
  const max = config.max_position_embeddings;
  if (seqLen > max) throw configError(where, 'seq_len', `(${seqLen}) exceeds the model's max_position_embeddings (${max})`);
  if (evalSeqLen !== undefined && evalSeqLen > max)
    throw configError(where, 'eval.seq_len', `(${evalSeqLen}) exceeds the model's max_position_embeddings (${max})`);
}

/** The schedule in JSON (snake_case, with `kind`) → the schedule module's type; HF's names go through scheduleFromHf. */
function scheduleOf(s: Record<string, unknown>, peakLr: number, where: string): Schedule {
  if (typeof s !== 'object' || s === null || Array.isArray(s))
    throw configError(where, 'schedule', `must be a JSON object, got ${JSON.stringify(s)}`);
  const kinds = [...Object.keys(SCHEDULES), ...HF_SCHEDULES.filter((k) => k !== 'wsd')];
  // Without a kind, a misspelt `kind` key is the likely cause: name it rather than the missing kind.
  if (s.kind === undefined)
    checkKeys(
      Object.keys(s).filter((k) => nearest(k, ['kind'])),
      ['kind'],
      'schedule',
      where,
    );
  if (HF_SCHEDULES.includes(String(s.kind)) && s.kind !== 'wsd') return scheduleFromHf(s, peakLr, `${where}: schedule`);
  if (!(String(s.kind) in SCHEDULES))
    throw configError(where, 'schedule.kind', `must be ${kinds.join(', ')}, got ${JSON.stringify(s.kind)}`);
  let out: Schedule;
  if (s.kind === 'constant')
    out = { kind: 'constant', peakLr, warmupSteps: SCHEDULES.constant.parse(s, 'schedule', where).warmup_steps };
  else if (s.kind === 'wsd') {
    const w = SCHEDULES.wsd.parse(s, 'schedule', where);
    out = {
      kind: 'wsd',
      peakLr,
      warmupSteps: w.warmup_steps,
      stableSteps: w.stable_steps,
      decaySteps: w.decay_steps,
      decayType: w.decay_type,
      minLrRatio: w.min_lr_ratio,
    };
  } else {
    const c = SCHEDULES.cosine.parse(s, 'schedule', where);
    out = { kind: 'cosine', peakLr, warmupSteps: c.warmup_steps, totalSteps: c.total_steps, minLrRatio: c.min_lr_ratio };
  }
  try {
    validateSchedule(out);
  } catch (e) {
    throw configError(where, 'schedule', (e as Error).message);
  }
  return out;
}

/**
 * The same stage over `steps` steps: warmup/stable/decay (or cosine length) and the evaluation and
 * checkpoint intervals scaled by steps / cfg.steps (rounded, at least 1 where they were), for quick runs.
 */
export function rescaleStage(cfg: StageConfig, steps: number): StageConfig {
  const f = steps / cfg.steps;
  const scale = (n: number) => (n === 0 ? 0 : Math.max(1, Math.round(n * f)));
  const s = cfg.schedule;
  let schedule: Schedule;
  if (s.kind === 'wsd') {
    const [warmupSteps, decaySteps] = [scale(s.warmupSteps), scale(s.decaySteps)];
    schedule = { ...s, warmupSteps, decaySteps, stableSteps: Math.max(0, steps - warmupSteps - decaySteps) };
  } else if (s.kind === 'cosine')
    schedule = { ...s, warmupSteps: scale(s.warmupSteps), totalSteps: Math.max(scale(s.totalSteps), scale(s.warmupSteps)) };
  else schedule = { ...s, warmupSteps: scale(s.warmupSteps) };
  validateSchedule(schedule);
  return {
    ...cfg,
    steps,
    schedule,
    eval: { ...cfg.eval, every: Math.min(steps, scale(cfg.eval.every)) },
    checkpoint: { ...cfg.checkpoint, every: Math.min(steps, scale(cfg.checkpoint.every)) },
  };
}
