// `llmjp4 replay-train --case DIR --out OUT` (a pinned interface): replay a training-trajectory case
// (config.json, init.safetensors, batches.safetensors, trajectory.json) and write OUT/final.safetensors
// and OUT/trajectory.json with per-step loss, aux_loss, loss_total, grad_norm and lr.

import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ProgressBar } from '../../progress.js';
import { readTrajectoryCase, replayTrajectory, writeReplay } from '../../replay.js';

export const replayTrainHelp =
  'replay a golden training trajectory: --case DIR --out OUT [--quiet] (writes OUT/final.safetensors, OUT/trajectory.json)';

export async function replayTrain(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { case: { type: 'string' }, out: { type: 'string' }, quiet: { type: 'boolean', default: false } },
  });
  if (!values.case || !values.out) throw new Error('--case DIR and --out OUT are required');
  const c = readTrajectoryCase(values.case);
  const bar = values.quiet ? undefined : new ProgressBar(c.numSteps, `replay ${c.name}`);
  const r = await replayTrajectory(c, {
    onStep: (s) => bar?.tick(1, { loss: s.loss, grad_norm: s.grad_norm, lr: s.lr.toExponential(3) }),
  });
  bar?.done();
  writeReplay(values.out, c, r);
  const last = r.steps.at(-1);
  console.log(
    `${c.name}: ${r.steps.length} steps, final loss ${last?.loss.toFixed(6)}; wrote ${join(values.out, 'final.safetensors')} and ${join(values.out, 'trajectory.json')}`,
  );
  return 0;
}
