// A training stage as a JSON file: what it trains (a preset, or the checkpoint of the previous stage),
// on which data (pre-training mixture, mid-training mix, or SFT), for how long, with which optimizer,
// schedule and MoE loss coefficients, and how often it evaluates and checkpoints. Field names follow
// the HF/JSON convention (snake_case). Every field is checked once here, and an error names it.

import { readFileSync } from 'node:fs';
import { validateSchedule, type Schedule } from './schedule.js';

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

/** Read and check a stage config file. */
export function readStageConfig(path: string): StageConfig {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  return parseStageConfig(json, path);
}

/** Defaults filled in and every field checked; `where` prefixes errors. */
export function parseStageConfig(json: unknown, where = 'stage config'): StageConfig {
  const fail = (field: string, msg: string): never => {
    throw new Error(`${where}: '${field}' ${msg}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${where}: not a JSON object`);
  const j = json as Record<string, any>;
  const known = [
    'stage',
    'out',
    'model',
    'init_from',
    'data',
    'steps',
    'batch_size',
    'seq_len',
    'micro_batches',
    'seed',
    'optimizer',
    'schedule',
    'moe',
    'eval',
    'checkpoint',
    'comment',
  ];
  for (const k of Object.keys(j)) if (!known.includes(k)) fail(k, `is not a stage field (known: ${known.join(', ')})`);
  if (!['pretrain', 'midtrain', 'sft'].includes(j.stage))
    fail('stage', `must be pretrain, midtrain or sft, got ${JSON.stringify(j.stage)}`);
  if (typeof j.out !== 'string' || j.out === '') fail('out', 'must be a folder path');
  if ((j.model === undefined) === (j.init_from === undefined))
    fail('model', 'or init_from: give exactly one (a fresh preset, or the folder to continue from)');
  if (j.model !== undefined && typeof j.model?.preset !== 'string') fail('model.preset', 'must name a preset');
  if (j.init_from !== undefined && typeof j.init_from !== 'string') fail('init_from', 'must be a folder path');
  const int = (v: unknown, field: string, min: number): number =>
    Number.isInteger(v) && (v as number) >= min
      ? (v as number)
      : fail(field, `must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  const num = (v: unknown, field: string, ok: (x: number) => boolean, want: string): number =>
    typeof v === 'number' && Number.isFinite(v) && ok(v) ? v : fail(field, `must be ${want}, got ${JSON.stringify(v)}`);
  const o = j.optimizer ?? {};
  const betas = o.betas ?? [0.9, 0.95];
  if (!Array.isArray(betas) || betas.length !== 2) fail('optimizer.betas', 'must be [beta1, beta2]');
  const s = j.schedule ?? fail('schedule', 'is required');
  const schedule = scheduleOf(
    s,
    num(o.lr, 'optimizer.lr', (x) => x >= 0, 'a number ≥ 0'),
    fail,
  );
  try {
    validateSchedule(schedule);
  } catch (e) {
    fail('schedule', (e as Error).message);
  }
  const data = j.data ?? {};
  if (data.sft_mode !== undefined && !['pack', 'pad'].includes(data.sft_mode))
    fail('data.sft_mode', `must be pack or pad, got ${JSON.stringify(data.sft_mode)}`);
  const steps = int(j.steps, 'steps', 1);
  return {
    stage: j.stage,
    out: j.out,
    model: j.model,
    init_from: j.init_from,
    data,
    steps,
    batch_size: int(j.batch_size, 'batch_size', 1),
    seq_len: int(j.seq_len, 'seq_len', 2),
    micro_batches: int(j.micro_batches ?? 1, 'micro_batches', 1),
    seed: int(j.seed ?? 0, 'seed', 0),
    optimizer: {
      lr: o.lr,
      betas: [
        num(betas[0], 'optimizer.betas[0]', (x) => x >= 0 && x < 1, 'in [0, 1)'),
        num(betas[1], 'optimizer.betas[1]', (x) => x >= 0 && x < 1, 'in [0, 1)'),
      ],
      eps: num(o.eps ?? 1e-8, 'optimizer.eps', (x) => x >= 0, 'a number ≥ 0'),
      weight_decay: num(o.weight_decay ?? 0.1, 'optimizer.weight_decay', (x) => x >= 0, 'a number ≥ 0'),
      max_grad_norm:
        o.max_grad_norm === null
          ? null
          : num(o.max_grad_norm ?? 1.0, 'optimizer.max_grad_norm', (x) => x > 0, 'a number > 0 or null'),
    },
    schedule,
    moe: {
      aux_loss_coef:
        j.moe?.aux_loss_coef === undefined
          ? undefined
          : num(j.moe.aux_loss_coef, 'moe.aux_loss_coef', (x) => x >= 0, 'a number ≥ 0'),
      z_loss_coef: num(j.moe?.z_loss_coef ?? 1e-3, 'moe.z_loss_coef', (x) => x >= 0, 'a number ≥ 0'),
    },
    eval: {
      every: int(j.eval?.every ?? steps, 'eval.every', 1),
      max_tokens: int(j.eval?.max_tokens ?? 4096, 'eval.max_tokens', 1),
      seq_len: j.eval?.seq_len === undefined ? undefined : int(j.eval.seq_len, 'eval.seq_len', 2),
    },
    checkpoint: {
      every: int(j.checkpoint?.every ?? steps, 'checkpoint.every', 1),
      keep_last: int(j.checkpoint?.keep_last ?? 2, 'checkpoint.keep_last', 1),
    },
  };
}

/** The schedule in JSON (snake_case, with `kind`) → the schedule module's type. */
function scheduleOf(s: Record<string, any>, peakLr: number, fail: (f: string, m: string) => never): Schedule {
  switch (s.kind) {
    case 'constant':
      return { kind: 'constant', peakLr, warmupSteps: s.warmup_steps ?? 0 };
    case 'wsd':
      return {
        kind: 'wsd',
        peakLr,
        warmupSteps: s.warmup_steps ?? 0,
        stableSteps: s.stable_steps,
        decaySteps: s.decay_steps,
        decayType: s.decay_type,
        minLrRatio: s.min_lr_ratio,
      };
    case 'cosine':
      return { kind: 'cosine', peakLr, warmupSteps: s.warmup_steps ?? 0, totalSteps: s.total_steps, minLrRatio: s.min_lr_ratio };
    default:
      return fail('schedule.kind', `must be constant, wsd or cosine, got ${JSON.stringify(s.kind)}`);
  }
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
