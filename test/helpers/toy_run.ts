// A tiny, fully deterministic training run with checkpoints, for the resume tests: a small Llama or
// Qwen3-MoE, batches drawn from a seeded Generator (its state is the RNG state a checkpoint keeps) plus a
// data cursor, a WSD schedule, clipping and the MoE losses. `toyRun` resumes from the newest complete
// checkpoint under `root` when there is one, exactly as a restarted job would.
import { Generator, randint } from '../../core/index.js';
import { createModel, type CausalLM } from '../../model/causal_lm.js';
import { preset } from '../../model/presets.js';
import { findLatestCheckpoint, loadCheckpoint, restoreGenerators, saveCheckpoint } from '../../train/checkpoint.js';
import { AdamW } from '../../train/optim/adamw.js';
import { defaultParamGroups } from '../../train/optim/param_groups.js';
import { lrAt, type Schedule } from '../../train/schedule.js';
import { trainStep } from '../../train/step.js';

export type ToyKind = 'llama' | 'moe';

const SMALL = {
  vocab_size: 48,
  hidden_size: 16,
  intermediate_size: 24,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  head_dim: 8,
};
const SCHEDULE: Schedule = { kind: 'wsd', peakLr: 1e-2, warmupSteps: 2, stableSteps: 3, decaySteps: 4 };

export function toyModel(kind: ToyKind): CausalLM {
  const config =
    kind === 'llama'
      ? preset('tiny-llama', SMALL)
      : preset('tiny-qwen3-moe', { ...SMALL, moe_intermediate_size: 8, num_experts: 4 });
  return createModel(config, { seed: 21 });
}

export interface ToyRunOptions {
  kind: ToyKind;
  /** Train until this many steps are done in total. */
  until: number;
  /** Save a checkpoint every this many steps (none when absent). */
  saveEvery?: number;
  keepLast?: number;
  /** Called after each step with its total loss (e.g. to print progress from a child process). */
  onStep?: (step: number, lossTotal: number) => void;
}

export interface ToyRunResult {
  model: CausalLM;
  /** lossTotal of every step this call ran, by step index. */
  losses: Map<number, number>;
  /** The step this call started from (0, or the resumed checkpoint's). */
  startedAt: number;
  /** Every loss so far, carried through checkpoints in `extra`. */
  history: number[];
}

export async function toyRun(root: string | null, o: ToyRunOptions): Promise<ToyRunResult> {
  const gens = { data: new Generator(77) };
  let cursor = { batchesServed: 0 };
  let history: number[] = [];
  let step = 0;
  let model: CausalLM;
  let optimizer: AdamW;
  const latest = root ? findLatestCheckpoint(root) : null;
  if (latest) {
    const ck = loadCheckpoint(latest);
    model = ck.model;
    optimizer = new AdamW(defaultParamGroups(model.namedParameters(), 0.1), { betas: [0.9, 0.95] });
    optimizer.loadStateDict(ck.optimizer);
    restoreGenerators(gens, ck.rng);
    cursor = ck.dataCursor as typeof cursor;
    history = (ck.extra as { history: number[] }).history;
    step = ck.step;
  } else {
    model = toyModel(o.kind);
    optimizer = new AdamW(defaultParamGroups(model.namedParameters(), 0.1), { betas: [0.9, 0.95] });
  }
  const startedAt = step;
  const losses = new Map<number, number>();
  for (; step < o.until;) {
    if (cursor.batchesServed !== step)
      throw new Error(`toyRun: the data cursor is at ${cursor.batchesServed}, the step is ${step}`);
    const ids = randint(0, SMALL.vocab_size, [2, 8], { generator: gens.data });
    cursor = { batchesServed: cursor.batchesServed + 1 };
    const m = await trainStep(model, optimizer, [{ inputIds: ids, labels: ids }], {
      lr: lrAt(SCHEDULE, step),
      maxGradNorm: 1,
      zLossCoef: 1e-3,
    });
    losses.set(step, m.lossTotal);
    history = [...history, m.lossTotal];
    step++;
    o.onStep?.(step, m.lossTotal);
    if (root && o.saveEvery && step % o.saveEvery === 0) {
      saveCheckpoint(
        root,
        model,
        optimizer,
        { step, rng: gens, dataCursor: cursor, extra: { history } },
        { keepLast: o.keepLast },
      );
    }
  }
  return { model, losses, startedAt, history };
}

/** Every parameter's values by HF name, for exact comparisons. */
export function weightsOf(model: CausalLM): Map<string, number[]> {
  return new Map([...model.stateDict()].map(([k, t]) => [k, Array.from(t.dataSync())]));
}
