// Learning-rate schedules as pure functions of the 0-based optimizer step: `lrAt(schedule, t)` is the lr
// the update of step t uses. Three shapes: linear warmup then constant, WSD (warmup–stable–decay with a
// "1 − sqrt" cooldown, as LLM-jp-4 trained) and cosine with a floor. The formulas are those of HF's
// get_constant_schedule_with_warmup / get_wsd_schedule / get_cosine_with_min_lr_schedule_with_warmup
// under torch's LambdaLR (lr = peak · λ(t)), with two deliberate differences, both written down below:
// warmup always starts from 0, and cosine stays at its floor after the last step.

import { nearest } from './config_schema.js';

export type DecayType = '1-sqrt' | 'linear' | 'cosine';

/** Linear warmup from 0 over `warmupSteps`, then `peakLr` for ever. */
export interface ConstantSchedule {
  kind: 'constant';
  peakLr: number;
  warmupSteps: number;
}

/** Warmup from 0, `stableSteps` at the peak, then `decaySteps` down to minLrRatio·peak, which it keeps. */
export interface WsdSchedule {
  kind: 'wsd';
  peakLr: number;
  warmupSteps: number;
  stableSteps: number;
  decaySteps: number;
  /** Default '1-sqrt': λ = 1 − sqrt(progress). */
  decayType?: DecayType;
  /** The floor as a fraction of the peak (default 0). */
  minLrRatio?: number;
}

/** Warmup from 0, then a half cosine from the peak to minLrRatio·peak at `totalSteps`, then the floor. */
export interface CosineSchedule {
  kind: 'cosine';
  peakLr: number;
  warmupSteps: number;
  totalSteps: number;
  minLrRatio?: number;
}

export type Schedule = ConstantSchedule | WsdSchedule | CosineSchedule;

/** Check a schedule's fields once, naming the bad one. */
export function validateSchedule(s: Schedule): void {
  const fail = (field: string, v: unknown, want: string): never => {
    throw new Error(`schedule '${s.kind}': ${field} must be ${want}, got ${JSON.stringify(v)}`);
  };
  if (!Number.isFinite(s.peakLr) || s.peakLr < 0) fail('peakLr', s.peakLr, 'a finite number ≥ 0');
  const counts: Record<string, number> = { warmupSteps: s.warmupSteps };
  if (s.kind === 'wsd') Object.assign(counts, { stableSteps: s.stableSteps, decaySteps: s.decaySteps });
  if (s.kind === 'cosine') counts.totalSteps = s.totalSteps;
  for (const [k, v] of Object.entries(counts)) if (!Number.isInteger(v) || v < 0) fail(k, v, 'an integer ≥ 0');
  if (s.kind !== 'constant') {
    const r = s.minLrRatio ?? 0;
    if (!(r >= 0 && r <= 1)) fail('minLrRatio', s.minLrRatio, 'in [0, 1]');
  }
  if (s.kind === 'wsd' && !['1-sqrt', 'linear', 'cosine'].includes(s.decayType ?? '1-sqrt'))
    fail('decayType', s.decayType, "'1-sqrt', 'linear' or 'cosine'");
  if (s.kind === 'cosine' && s.totalSteps < s.warmupSteps) fail('totalSteps', s.totalSteps, `≥ warmupSteps (${s.warmupSteps})`);
}

/** The lr the update of 0-based step `step` uses. */
export function lrAt(s: Schedule, step: number): number {
  if (!Number.isInteger(step) || step < 0) throw new Error(`lrAt: step must be an integer ≥ 0, got ${step}`);
  validateSchedule(s);
  return s.peakLr * lambdaAt(s, step);
}

/** λ(t) = lr(t)/peak, computed exactly as HF's lambdas (so peak·λ matches LambdaLR to the last bit). */
export function lambdaAt(s: Schedule, t: number): number {
  // Warmup starts from 0 in every schedule: HF's WSD warms up from minLrRatio instead; with the usual
  // minLrRatio = 0 the two agree. max(1, ·) as HF: a 0-step warmup is no warmup.
  if (t < s.warmupSteps) return t / Math.max(1, s.warmupSteps);
  const floor = s.kind === 'constant' ? 1 : (s.minLrRatio ?? 0);
  switch (s.kind) {
    case 'constant':
      return 1;
    case 'wsd': {
      if (t < s.warmupSteps + s.stableSteps) return 1;
      if (t >= s.warmupSteps + s.stableSteps + s.decaySteps) return floor;
      const progress = (t - s.warmupSteps - s.stableSteps) / Math.max(1, s.decaySteps);
      const decay = s.decayType ?? '1-sqrt';
      const f =
        decay === '1-sqrt'
          ? 1 - Math.sqrt(progress)
          : decay === 'linear'
            ? 1 - progress
            : 0.5 * (1 + Math.cos(Math.PI * progress));
      return Math.max(0, f * (1 - floor) + floor);
    }
    case 'cosine': {
      // HF's cosine keeps turning after totalSteps (back up towards the peak); here it stays at the floor.
      const progress = Math.min(1, (t - s.warmupSteps) / Math.max(1, s.totalSteps - s.warmupSteps));
      const f = 0.5 * (1 + Math.cos(Math.PI * progress));
      return Math.max(0, f * (1 - floor) + floor);
    }
  }
}

/** HF's scheduler names (SchedulerType values, plus the golden trajectories' `wsd`), each with its function's arguments. */
const HF_FUNCTIONS: Record<string, { fn: string; required: readonly string[]; optional: readonly string[] }> = {
  constant_with_warmup: { fn: 'get_constant_schedule_with_warmup', required: ['num_warmup_steps'], optional: ['last_epoch'] },
  warmup_stable_decay: {
    fn: 'get_wsd_schedule',
    required: ['num_warmup_steps', 'num_decay_steps'],
    optional: ['num_training_steps', 'num_stable_steps', 'warmup_type', 'decay_type', 'min_lr_ratio', 'num_cycles', 'last_epoch'],
  },
  cosine_with_min_lr: {
    fn: 'get_cosine_with_min_lr_schedule_with_warmup',
    required: ['num_warmup_steps', 'num_training_steps'],
    optional: ['num_cycles', 'last_epoch', 'min_lr', 'min_lr_rate'],
  },
};
HF_FUNCTIONS.wsd = HF_FUNCTIONS.warmup_stable_decay!;

/** The HF scheduler names `scheduleFromHf` reads. */
export const HF_SCHEDULES: readonly string[] = Object.keys(HF_FUNCTIONS);

/**
 * A schedule from HF's scheduler name and exactly the arguments of the transformers.optimization function
 * it names (`kind` plus those arguments: a golden trajectory's `lr_schedule.params`, or a stage config's
 * schedule): `constant_with_warmup`, `warmup_stable_decay` (or `wsd`) and `cosine_with_min_lr`. Any other
 * argument is an error naming the nearest real one — an argument that was silently ignored used to train
 * with the wrong lr (`min_lr_rate` under cosine_with_min_lr). Defaults are HF's (get_wsd_schedule decays
 * by cosine unless told). Values HF accepts that these formulas do not implement are refused by name.
 */
export function scheduleFromHf(params: Record<string, unknown>, peakLr: number, where = 'lr_schedule.params'): Schedule {
  const fail = (k: string, msg: string): never => {
    throw new Error(`${where}.${k}: ${msg}`);
  };
  const f = HF_FUNCTIONS[String(params.kind)];
  if (!f) return fail('kind', `unsupported schedule ${JSON.stringify(params.kind)} (${HF_SCHEDULES.join(', ')})`);
  const takes = [...f.required, ...f.optional];
  for (const k of Object.keys(params)) {
    if (k === 'kind' || takes.includes(k)) continue;
    const near = nearest(k, takes);
    fail(k, `${f.fn} takes no argument '${k}'${near ? `; did you mean ${near}?` : ''} (it takes ${takes.join(', ')})`);
  }
  for (const k of f.required) if (params[k] === undefined) fail(k, `is required by ${f.fn}`);
  const int = (k: string): number => {
    const v = params[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(k, `expected an integer ≥ 0, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const number = (k: string, dflt: number): number => {
    const v = params[k] ?? dflt;
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(k, `expected a number, got ${JSON.stringify(v)}`);
    return v as number;
  };
  // Accepted with HF's defaults only: these formulas are the default shapes.
  const only = (k: string, value: unknown) => {
    if (params[k] !== undefined && params[k] !== value)
      fail(k, `only ${JSON.stringify(value)} (HF's default) is supported, got ${JSON.stringify(params[k])}`);
  };
  only('last_epoch', -1);
  only('num_cycles', 0.5);
  let s: Schedule;
  if (f.fn === 'get_constant_schedule_with_warmup') s = { kind: 'constant', peakLr, warmupSteps: int('num_warmup_steps') };
  else if (f.fn === 'get_wsd_schedule') {
    only('warmup_type', 'linear');
    const decayType = params.decay_type ?? 'cosine';
    if (!['1-sqrt', 'linear', 'cosine'].includes(decayType as string))
      fail('decay_type', `expected '1-sqrt', 'linear' or 'cosine', got ${JSON.stringify(decayType)}`);
    const [warmupSteps, decaySteps] = [int('num_warmup_steps'), int('num_decay_steps')];
    // HF: num_stable_steps wins when both are given; without it, the rest of num_training_steps is stable.
    if (params.num_stable_steps === undefined && params.num_training_steps === undefined)
      fail('num_stable_steps', 'or num_training_steps is required by get_wsd_schedule');
    const stableSteps =
      params.num_stable_steps !== undefined ? int('num_stable_steps') : int('num_training_steps') - warmupSteps - decaySteps;
    if (stableSteps < 0)
      fail('num_training_steps', `(${params.num_training_steps}) is less than warmup + decay (${warmupSteps + decaySteps})`);
    s = {
      kind: 'wsd',
      peakLr,
      warmupSteps,
      stableSteps,
      decaySteps,
      decayType: decayType as DecayType,
      minLrRatio: number('min_lr_ratio', 0),
    };
  } else {
    // HF: exactly one of min_lr (absolute) and min_lr_rate (a fraction of the peak).
    if ((params.min_lr === undefined) === (params.min_lr_rate === undefined))
      fail('min_lr_rate', `or min_lr: get_cosine_with_min_lr_schedule_with_warmup takes exactly one of them`);
    const minLrRatio = params.min_lr !== undefined ? number('min_lr', 0) / peakLr : number('min_lr_rate', 0);
    s = { kind: 'cosine', peakLr, warmupSteps: int('num_warmup_steps'), totalSteps: int('num_training_steps'), minLrRatio };
  }
  try {
    validateSchedule(s);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
  return s;
}
