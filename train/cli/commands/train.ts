// `llmjp4 train --config FILE [--resume]`: run one training stage (pre-train, mid-train or SFT) from its
// JSON config; see train/stage_config.ts for the fields and train/configs/ for the main job's stages.

import { parseArgs } from 'node:util';
import { runStage } from '../../stage.js';
import { readStageConfig, rescaleStage } from '../../stage_config.js';
import { backendOption, useBackend } from './backend_flag.js';

export const trainHelp = 'run a training stage: --config FILE [--resume] [--steps N (override)] [--backend cpu|gpu]';

export async function trainCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      resume: { type: 'boolean', default: false },
      steps: { type: 'string' },
      ...backendOption,
    },
  });
  if (!values.config) throw new Error('--config FILE is required (e.g. train/configs/llama/pretrain.json)');
  const cfg = readStageConfig(values.config);
  if (values.steps !== undefined) {
    // A shorter (or longer) run of the same stage: the schedule keeps its shape, scaled to the new length.
    const steps = Number(values.steps);
    if (!Number.isInteger(steps) || steps < 1) throw new Error(`--steps must be an integer ≥ 1, got '${values.steps}'`);
    Object.assign(cfg, rescaleStage(cfg, steps));
  }
  return useBackend(values, async () => {
    const r = await runStage(cfg, { resume: values.resume });
    const fmt = (v: Record<string, number> | undefined) =>
      v
        ? Object.entries(v)
            .map(([k, x]) => `${k} ${x.toFixed(3)}`)
            .join(', ')
        : '-';
    console.log(`${cfg.stage}: ${r.stepsRun} steps at ${Math.round(r.tokensPerSecond)} tokens/s`);
    console.log(`  validation before: ${fmt(r.validBefore)}`);
    console.log(`  validation after:  ${fmt(r.validAfter)}`);
    if (r.final)
      console.log(`  model: ${r.final}   plots: ${cfg.out}/loss.svg, lr.svg${r.history.expertLoad ? ', experts.svg' : ''}`);
    return 0;
  });
}
