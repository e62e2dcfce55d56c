// Learning-rate schedules as pure functions of the 0-based optimizer step: `lrAt(schedule, t)` is the lr
// the update of step t uses. Three shapes: linear warmup then constant, WSD (warmup–stable–decay with a
// "1 − sqrt" cooldown, as LLM-jp-4 trained) and cosine with a floor. The formulas are those of HF's
// get_constant_schedule_with_warmup / get_wsd_schedule / get_cosine_with_min_lr_schedule_with_warmup
// under torch's LambdaLR (lr = peak · λ(t)), with two deliberate differences, both written down below:
// warmup always starts from 0, and cosine stays at its floor after the last step.

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

/**
 * A schedule from the `lr_schedule.params` of a golden trajectory (HF scheduler names and arguments):
 * `constant_with_warmup`, `wsd` and `cosine_with_min_lr`.
 */
export function scheduleFromHf(params: Record<string, unknown>, peakLr: number): Schedule {
  const int = (k: string, dflt?: number): number => {
    const v = params[k] ?? dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
      throw new Error(`lr_schedule.params.${k}: expected an integer ≥ 0, got ${JSON.stringify(params[k])}`);
    return v;
  };
  const ratio = (): number => {
    const v = params.min_lr_ratio ?? 0;
    if (typeof v !== 'number') throw new Error(`lr_schedule.params.min_lr_ratio: expected a number, got ${JSON.stringify(v)}`);
    return v;
  };
  let s: Schedule;
  switch (params.kind) {
    case 'constant_with_warmup':
      s = { kind: 'constant', peakLr, warmupSteps: int('num_warmup_steps', 0) };
      break;
    case 'wsd': {
      const warmupType = params.warmup_type ?? 'linear';
      if (warmupType !== 'linear')
        throw new Error(`lr_schedule.params.warmup_type: only 'linear' is supported, got ${JSON.stringify(warmupType)}`);
      const decayType = (params.decay_type ?? '1-sqrt') as DecayType;
      s = {
        kind: 'wsd',
        peakLr,
        warmupSteps: int('num_warmup_steps'),
        stableSteps: int('num_stable_steps'),
        decaySteps: int('num_decay_steps'),
        decayType,
        minLrRatio: ratio(),
      };
      break;
    }
    case 'cosine_with_min_lr':
      s = {
        kind: 'cosine',
        peakLr,
        warmupSteps: int('num_warmup_steps', 0),
        totalSteps: int('num_training_steps'),
        minLrRatio: ratio(),
      };
      break;
    default:
      throw new Error(
        `lr_schedule.params.kind: unsupported schedule ${JSON.stringify(params.kind)} (constant_with_warmup, wsd, cosine_with_min_lr)`,
      );
  }
  validateSchedule(s);
  return s;
}
