// The stage runner: the three stages chain (pre-train → mid-train → SFT, each from the last one's final
// model and tokenizer), a run cut short and resumed ends bit-identical to a straight run (weights, losses,
// validation history), plots and metrics are written, and bad configs name the field.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runStage } from '../../train/stage.js';
import { parseStageConfig, type StageConfig } from '../../train/stage_config.js';
import { smallCorpus } from './data/fixture.js';

let dirs: { corpusDir: string; cacheDir: string };
beforeAll(() => {
  dirs = smallCorpus();
});

const quiet = { log: () => {}, progress: false };

function config(stage: 'pretrain' | 'midtrain' | 'sft', out: string, extra: Record<string, unknown> = {}): StageConfig {
  return parseStageConfig({
    stage,
    out,
    ...(stage === 'pretrain'
      ? { model: { preset: 'tiny-llama', config: { hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1, head_dim: 8 } } }
      : {}),
    data: {
      corpus_dir: dirs.corpusDir,
      cache_dir: dirs.cacheDir,
      vocab_size: 1000,
      doc_chars: 500,
      valid_fraction: 0.2,
      code: false,
    },
    steps: 4,
    batch_size: 2,
    seq_len: 32,
    optimizer: { lr: 1e-2, betas: [0.9, 0.95], weight_decay: 0.1, max_grad_norm: 1.0 },
    schedule: { kind: 'wsd', warmup_steps: 1, stable_steps: 2, decay_steps: 1 },
    eval: { every: 2, max_tokens: 256 },
    checkpoint: { every: 2, keep_last: 2 },
    ...extra,
  });
}

const weights = (dir: string) => readFileSync(join(dir, 'model.safetensors'));

describe('training stages', () => {
  it('pre-train → mid-train → SFT chain, each writing its final model, tokenizer, metrics, plots and summary', async () => {
    const root = join(dirs.cacheDir, '..', 'chain');
    const pre = await runStage(config('pretrain', join(root, 'pre')), quiet);
    expect(pre.final).toBe(join(root, 'pre', 'final'));
    for (const f of [
      'final/config.json',
      'final/model.safetensors',
      'final/tokenizer.model',
      'metrics.jsonl',
      'loss.svg',
      'lr.svg',
      'summary.json',
    ])
      expect(existsSync(join(root, 'pre', f)), f).toBe(true);
    expect(
      readFileSync(join(root, 'pre', 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(4);
    expect(readdirSync(join(root, 'pre', 'final')).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.model']); // nothing left half-written
    expect(Object.keys(pre.validBefore).sort()).toEqual(['en', 'ja', 'sft']);
    expect(pre.validAfter!.en).toBeLessThan(pre.validBefore.en);
    const mid = await runStage(config('midtrain', join(root, 'mid'), { init_from: pre.final }), quiet);
    const sft = await runStage(config('sft', join(root, 'sft'), { init_from: mid.final }), quiet);
    // Each stage starts where the previous one ended.
    expect(mid.validBefore).toEqual(pre.validAfter);
    expect(sft.validBefore).toEqual(mid.validAfter);
    expect(readFileSync(join(root, 'sft', 'final', 'tokenizer.model'))).toEqual(
      readFileSync(join(root, 'pre', 'final', 'tokenizer.model')),
    );
  });

  for (const arch of ['llama', 'moe'] as const) {
    it(`${arch}: cut short after 2 steps and resumed, it ends bit-identical to a straight run`, async () => {
      const model =
        arch === 'moe'
          ? {
              preset: 'tiny-qwen3-moe',
              config: { hidden_size: 32, moe_intermediate_size: 16, num_hidden_layers: 1, head_dim: 8, num_experts: 4 },
            }
          : undefined;
      const root = join(dirs.cacheDir, '..', `resume-${arch}`);
      const extra = model ? { model } : {};
      const straight = await runStage(config('pretrain', join(root, 'a'), extra), quiet);
      const cut = await runStage(config('pretrain', join(root, 'b'), extra), { ...quiet, stopAfter: 2 });
      expect(cut.final).toBeUndefined();
      const resumed = await runStage(config('pretrain', join(root, 'b'), extra), { ...quiet, resume: true });
      expect(resumed.stepsRun).toBe(2);
      expect(weights(resumed.final!).equals(weights(straight.final!))).toBe(true);
      expect(resumed.history).toEqual(straight.history);
      if (arch === 'moe') {
        expect(straight.history.expertLoad).not.toBeNull();
        expect(existsSync(join(root, 'a', 'experts.svg'))).toBe(true);
        expect(straight.history.train.every((r) => r.aux_loss > 0 && r.z_loss > 0)).toBe(true);
      }
    });
  }

  it('names a bad field', () => {
    const base = {
      stage: 'pretrain',
      out: 'x',
      model: { preset: 'tiny-llama' },
      steps: 1,
      batch_size: 1,
      seq_len: 8,
      optimizer: { lr: 1e-3 },
      schedule: { kind: 'constant' },
    };
    expect(() => parseStageConfig({ ...base, stage: 'rlhf' })).toThrow(
      'stage config: stage: must be "pretrain", "midtrain" or "sft"',
    );
    expect(() => parseStageConfig({ ...base, init_from: 'y' })).toThrow(/give exactly one/);
    expect(() => parseStageConfig({ ...base, steps: 0 })).toThrow('stage config: steps: must be an integer ≥ 1, got 0');
    expect(() => parseStageConfig({ ...base, schedule: { kind: 'wsd', stable_steps: -1, decay_steps: 1 } })).toThrow(
      'stage config: schedule.stable_steps: must be an integer ≥ 0, got -1',
    );
    expect(() => parseStageConfig({ ...base, lr: 1 })).toThrow(
      /stage config: lr: unknown key; the known keys are comment, stage/,
    );
    expect(parseStageConfig(base).moe.z_loss_coef).toBe(1e-3);
  });
});

describe('rescaleStage (llmjp4 train --steps N)', () => {
  it('keeps the schedule shape and the intervals in proportion', async () => {
    const { rescaleStage, readStageConfig } = await import('../../train/stage_config.js');
    const cfg = readStageConfig('train/configs/llama/pretrain.json');
    const short = rescaleStage(cfg, 40);
    expect(short.steps).toBe(40);
    expect(short.schedule).toMatchObject({ kind: 'wsd', warmupSteps: 4, stableSteps: 28, decaySteps: 8 });
    expect(short.eval.every).toBe(10);
    expect(short.checkpoint.every).toBe(5);
    expect(rescaleStage(cfg, 1).schedule).toMatchObject({ warmupSteps: 1, decaySteps: 1, stableSteps: 0 });
  });
});
