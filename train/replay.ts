// Replaying a golden training trajectory (the format of ../shared/golden/train/<case>/): the model from
// config.json + init.safetensors, step t trained on batches.safetensors[t] with the optimizer, parameter
// groups, clipping, micro-batching and lr schedule that trajectory.json describes. The result — per-step
// metrics and the final parameters — is what the golden's trajectory.json and final.safetensors hold.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tensor, type Tensor } from '../core/index.js';
import { architecture, createModel, type CausalLM } from '../model/causal_lm.js';
import type { ModelConfig } from '../model/config.js';
import { writeFileAtomic } from '../model/io/atomic_write.js';
import { SafetensorsFile } from '../model/io/safetensors_read.js';
import { saveSafetensors } from '../model/io/safetensors_write.js';
import { loadConfig } from '../model/pretrained.js';
import { AdamW } from './optim/adamw.js';
import { paramGroupsFromHfNames, type NamedGroupSpec } from './optim/param_groups.js';
import { lrAt, scheduleFromHf, type Schedule } from './schedule.js';
import { trainStep, type MicroBatch, type StepMetrics } from './step.js';

/** A trajectory case, read and checked. */
export interface TrajectoryCase {
  dir: string;
  name: string;
  config: ModelConfig;
  numSteps: number;
  microBatchesPerStep: number;
  schedule: Schedule;
  maxGradNorm: number;
  betas: [number, number];
  eps: number;
  groups: NamedGroupSpec[];
  /** The load-balancing coefficient (the config's router_aux_loss_coef; 0 for a dense model). */
  auxLossCoef: number;
  /** input_ids and labels, int32 [steps, B, T]. */
  inputIds: Tensor;
  labels: Tensor;
}

/** One step of the replay as trajectory.json writes it (golden field names). */
export interface ReplayStep {
  step: number;
  loss: number;
  /** Unscaled load-balancing loss; 0 for a dense model (it has no router). */
  aux_loss: number;
  loss_total: number;
  grad_norm: number;
  clip_coef: number;
  clipped: boolean;
  lr: number;
  routing?: { tokens_per_expert: Record<string, number[]> };
}

function readJson(path: string): Record<string, any> {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: cannot read JSON (${(e as Error).message})`);
  }
}

/** Read a case folder (config.json, init.safetensors, batches.safetensors, trajectory.json). */
export function readTrajectoryCase(dir: string): TrajectoryCase {
  const j = readJson(join(dir, 'trajectory.json'));
  const where = `${join(dir, 'trajectory.json')}`;
  const need = (v: unknown, field: string): any => {
    if (v === undefined || v === null) throw new Error(`${where}: missing ${field}`);
    return v;
  };
  const config = loadConfig(dir);
  const opt = need(j.optimizer, 'optimizer');
  const groups: NamedGroupSpec[] = need(opt.param_groups, 'optimizer.param_groups').map((g: any, i: number) => {
    if (typeof g.weight_decay !== 'number' || !Array.isArray(g.params))
      throw new Error(`${where}: optimizer.param_groups[${i}] needs weight_decay and params`);
    return { weightDecay: g.weight_decay, params: g.params };
  });
  const lrs = need(j.lr_schedule, 'lr_schedule');
  const training = need(j.training, 'training');
  const batches = SafetensorsFile.open(join(dir, 'batches.safetensors'));
  let inputIds: Tensor;
  let labels: Tensor;
  try {
    const read = (name: string) => {
      const r = batches.read(name);
      if (r.shape.length !== 3 || r.dtype !== 'int32')
        throw new Error(`${batches.path}: '${name}' must be an integer [steps, B, T] tensor, got ${r.dtype} [${r.shape}]`);
      return tensor(r.data, { shape: r.shape, dtype: 'int32' });
    };
    [inputIds, labels] = [read('input_ids'), read('labels')];
  } finally {
    batches.close();
  }
  const numSteps = need(training.num_steps, 'training.num_steps');
  if (inputIds.shape[0]! < numSteps)
    throw new Error(`${where}: training.num_steps is ${numSteps} but batches.safetensors holds ${inputIds.shape[0]} steps`);
  if (inputIds.shape.join() !== labels.shape.join())
    throw new Error(`${batches.path}: input_ids [${inputIds.shape}] and labels [${labels.shape}] differ in shape`);
  return {
    dir,
    name: typeof j.case === 'string' ? j.case : dir,
    config,
    numSteps,
    microBatchesPerStep: training.micro_batches_per_step ?? 1,
    schedule: scheduleFromHf(need(lrs.params, 'lr_schedule.params'), need(lrs.peak_lr ?? opt.lr_peak, 'lr_schedule.peak_lr')),
    maxGradNorm: need(j.grad_clipping?.max_norm, 'grad_clipping.max_norm'),
    betas: need(opt.betas, 'optimizer.betas'),
    eps: need(opt.eps, 'optimizer.eps'),
    groups,
    auxLossCoef: architecture(config).moe(config)?.router_aux_loss_coef ?? 0,
    inputIds,
    labels,
  };
}

/** The model of a case with init.safetensors loaded (strict: every tensor used, every parameter given). */
export function loadInitialModel(c: TrajectoryCase): CausalLM {
  const model = createModel(c.config);
  const f = SafetensorsFile.open(join(c.dir, 'init.safetensors'));
  try {
    const get = (name: string) => {
      if (!f.tensors.has(name)) return undefined;
      const r = f.read(name);
      return tensor(r.data, { shape: r.shape, dtype: r.dtype });
    };
    const used = model.loadStateDict(get, model.dtype);
    const extra = [...f.tensors.keys()].filter((k) => !used.has(k));
    if (extra.length > 0)
      throw new Error(`${f.path}: ${extra.length} tensor(s) the model does not use: ${extra.slice(0, 5).join(', ')}`);
  } finally {
    f.close();
  }
  return model;
}

/** Step t's micro-batches: the rows of batch t split into `microBatchesPerStep` equal parts. */
export function stepBatches(c: TrajectoryCase, t: number): MicroBatch[] {
  const ids = c.inputIds.select(0, t);
  const labels = c.labels.select(0, t);
  const n = c.microBatchesPerStep;
  const B = ids.shape[0]!;
  if (!Number.isInteger(n) || n < 1 || B % n !== 0) throw new Error(`replay: ${B} rows cannot be split into ${n} micro-batches`);
  return Array.from({ length: n }, (_, i) => ({
    inputIds: ids.narrow(0, (i * B) / n, B / n).contiguous(),
    labels: labels.narrow(0, (i * B) / n, B / n).contiguous(),
  }));
}

export interface ReplayOptions {
  /** Called after every step (progress bars, logging). */
  onStep?: (s: ReplayStep, m: StepMetrics) => void;
}

/** Run a case from its initial parameters; returns the trained model and the per-step records. */
export async function replayTrajectory(
  c: TrajectoryCase,
  o: ReplayOptions = {},
): Promise<{ model: CausalLM; steps: ReplayStep[] }> {
  const model = loadInitialModel(c);
  const optimizer = new AdamW(paramGroupsFromHfNames(model, c.groups), { betas: c.betas, eps: c.eps });
  const sparse = model.sparseLayers();
  const steps: ReplayStep[] = [];
  for (let t = 0; t < c.numSteps; t++) {
    const lr = lrAt(c.schedule, t);
    const m = await trainStep(model, optimizer, stepBatches(c, t), {
      lr,
      maxGradNorm: c.maxGradNorm,
      auxLossCoef: c.auxLossCoef,
      routing: sparse.length > 0,
    });
    const s: ReplayStep = {
      step: t,
      loss: m.loss,
      aux_loss: m.auxLoss,
      loss_total: m.lossTotal,
      grad_norm: m.gradNorm,
      clip_coef: m.clipCoef,
      clipped: m.clipCoef < 1,
      lr,
    };
    if (m.tokensPerExpert)
      s.routing = { tokens_per_expert: Object.fromEntries(m.tokensPerExpert.map((counts, i) => [`layer${sparse[i]}`, counts])) };
    steps.push(s);
    o.onStep?.(s, m);
  }
  return { model, steps };
}

/** Write OUT/final.safetensors (HF names, F32) and OUT/trajectory.json, each atomically. */
export function writeReplay(out: string, c: TrajectoryCase, r: { model: CausalLM; steps: ReplayStep[] }): void {
  saveSafetensors(join(out, 'final.safetensors'), r.model.stateDict(), { metadata: { format: 'pt' } });
  const json = { case: c.name, source: c.dir, num_steps: c.numSteps, steps: r.steps };
  writeFileAtomic(join(out, 'trajectory.json'), JSON.stringify(json, null, 1) + '\n');
}
