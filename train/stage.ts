// Run one training stage from its config (stage_config.ts): prepare the data, build or load the model,
// then step → log → evaluate → checkpoint until `steps`, and finish with the final model (HF layout plus
// its tokenizer.model), metrics.jsonl, summary.json and SVG plots. With `resume`, a killed run continues
// from its newest complete checkpoint bit-identically: the model, the optimizer's moments and step, the
// data stream's cursor and the metric history all come back from the checkpoint. A checkpoint records its
// run's identity (run_identity.ts): resuming under a different config is refused, naming the fields; a
// damaged newest checkpoint falls back to the newest intact one; a fresh run never starts over another
// run's checkpoints (it is refused, and nothing is touched: --resume, or another out folder).

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { architecture, createModel, type CausalLM } from '../model/causal_lm.js';
import { preset } from '../model/presets.js';
import { fromPretrained, savePretrained } from '../model/pretrained.js';
import { writeFileAtomic } from '../model/io/atomic_write.js';
import { CHECKPOINT_TOKENIZER, listCheckpoints, loadNewestIntact, saveCheckpoint, type LoadedCheckpoint } from './checkpoint.js';
import { midtrainBatches, pretrainBatches, sftBatches, type BatchStream } from './data/batches.js';
import { prepareData, type PreparedData } from './data/prepare.js';
import { tokenizerFromFile } from './data/tokenizer_choice.js';
import { evaluate, type EvalReport } from './eval.js';
import { AdamW } from './optim/adamw.js';
import { defaultParamGroups } from './optim/param_groups.js';
import { ProgressBar } from './progress.js';
import { identityDiff, newRunId, runIdentity, type RunInfo } from './run_identity.js';
import { lrAt } from './schedule.js';
import type { StageConfig } from './stage_config.js';
import { writeStagePlots, type StageHistory } from './stage_report.js';
import { trainStep, type MicroBatch } from './step.js';

export interface StageOptions {
  /** Continue from the newest complete checkpoint under `out/checkpoints` (fresh start if there is none). */
  resume?: boolean;
  /** Stop after this many steps of this invocation (tests: simulate a run that is cut short). */
  stopAfter?: number;
  /** Lines for the user (default: stderr). */
  log?: (line: string) => void;
  /** Show progress bars (default true). */
  progress?: boolean;
}

export interface StageResult {
  out: string;
  /** The final model's folder (HF layout + tokenizer.model), when the stage ran to the end. */
  final?: string;
  history: StageHistory;
  /** Validation before the first step and after the last (per sub-corpus loss). */
  validBefore: Record<string, number>;
  validAfter?: Record<string, number>;
  tokensPerSecond: number;
  stepsRun: number;
}

export async function runStage(cfg: StageConfig, opts: StageOptions = {}): Promise<StageResult> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const showProgress = opts.progress ?? true;
  const ckptRoot = join(cfg.out, 'checkpoints');
  // 0. Which run this is, decided before anything is read or written: a resumed one must be the same run.
  const identity = runIdentity(cfg);
  const ck = opts.resume ? resumePoint(cfg, ckptRoot, identity, log) : null;
  if (!opts.resume) {
    const earlier = listCheckpoints(ckptRoot);
    if (earlier.length > 0)
      throw new Error(
        `${cfg.stage}: ${ckptRoot} already holds checkpoints of an earlier run (newest: step ${earlier.at(-1)!.step}); ` +
          `continue it with --resume, or give this run another out folder (nothing was changed)`,
      );
  }
  const run: RunInfo = { id: ck?.run?.id ?? newRunId(), identity };
  mkdirSync(cfg.out, { recursive: true });

  // 1. Data, cut with the tokenizer the model was (or will be) trained with.
  const inherited =
    cfg.init_from && existsSync(join(cfg.init_from, CHECKPOINT_TOKENIZER))
      ? join(cfg.init_from, CHECKPOINT_TOKENIZER)
      : undefined;
  const tokenizerPath = cfg.data.tokenizer ?? inherited;
  const data = prepareData({
    tokenizer: tokenizerPath ? tokenizerFromFile(tokenizerPath) : undefined,
    vocabSize: cfg.data.vocab_size,
    corpusDir: cfg.data.corpus_dir,
    cacheDir: cfg.data.cache_dir,
    code: cfg.data.code,
    docChars: cfg.data.doc_chars,
    validFraction: cfg.data.valid_fraction,
    progress: showProgress,
    log,
  });

  // 2. The model and optimizer: from a checkpoint of this stage, else the previous stage or a preset.
  let model: CausalLM;
  let history: StageHistory = { train: [], valid: [], expertLoad: null };
  let start = 0;
  if (ck) {
    model = ck.model;
    start = ck.step;
    history = ck.extra as StageHistory;
    log(`${cfg.stage}: resuming from ${ck.path} (step ${start} of ${cfg.steps})`);
  } else if (cfg.init_from) {
    model = fromPretrained(cfg.init_from);
    log(`${cfg.stage}: starting from ${cfg.init_from}`);
  } else {
    const config = preset(cfg.model!.preset, { vocab_size: data.tokenizer.vocabSize, ...cfg.model!.config });
    model = createModel(config, { seed: cfg.model!.seed ?? cfg.seed });
    log(
      `${cfg.stage}: a fresh ${cfg.model!.preset} (${model
        .parameters()
        .reduce((n, p) => n + p.numel(), 0)
        .toLocaleString('en-US')} parameters)`,
    );
  }
  const maxPos = model.config.max_position_embeddings;
  for (const [field, len] of [
    ['seq_len', cfg.seq_len],
    ['eval.seq_len', cfg.eval.seq_len],
  ] as const)
    if (len !== undefined && len > maxPos)
      throw new Error(`${cfg.stage}: ${field} (${len}) exceeds the model's max_position_embeddings (${maxPos})`);
  if (data.tokenizer.vocabSize > model.config.vocab_size)
    throw new Error(
      `${cfg.stage}: the tokenizer has ${data.tokenizer.vocabSize} pieces but the model's vocab_size is ${model.config.vocab_size}`,
    );
  const optimizer = new AdamW(defaultParamGroups(model.namedParameters(), cfg.optimizer.weight_decay), {
    betas: cfg.optimizer.betas,
    eps: cfg.optimizer.eps,
  });
  if (ck) optimizer.loadStateDict(ck.optimizer);

  // 3. The batch stream of this stage, at its saved cursor when resuming.
  const stream = batchStream(cfg, data);
  if (ck) stream.restore(ck.dataCursor);

  const moe = architecture(model.config).moe(model.config) !== null;
  const evalOpts = { maxTokens: cfg.eval.max_tokens, seqLen: cfg.eval.seq_len ?? cfg.seq_len, choices: false };
  const validate = async (step: number): Promise<EvalReport> => {
    const r = await evaluate(model, data, evalOpts);
    history.valid.push({ step, loss: Object.fromEntries(Object.entries(r.subCorpora).map(([k, v]) => [k, v.loss])) });
    log(
      `${cfg.stage} step ${step}: validation ${Object.entries(r.subCorpora)
        .map(([k, v]) => `${k} ${v.loss.toFixed(3)}`)
        .join(', ')}`,
    );
    return r;
  };
  if (start === 0) await validate(0);

  // 4. The loop.
  const end = Math.min(cfg.steps, opts.stopAfter === undefined ? cfg.steps : start + opts.stopAfter);
  const bar = showProgress ? new ProgressBar(end - start, cfg.stage) : undefined;
  const t0 = performance.now();
  let tokens = 0;
  for (let step = start; step < end; step++) {
    const micro: MicroBatch[] = Array.from({ length: cfg.micro_batches }, () => {
      const b = nextWithTargets(stream, cfg.stage);
      return { inputIds: b.inputIds, labels: b.labels, attentionMask: b.attentionMask };
    });
    const m = await trainStep(model, optimizer, micro, {
      lr: lrAt(cfg.schedule, step),
      maxGradNorm: cfg.optimizer.max_grad_norm ?? undefined,
      auxLossCoef: moe ? cfg.moe.aux_loss_coef : undefined,
      zLossCoef: moe ? cfg.moe.z_loss_coef : 0,
      routing: moe,
    });
    tokens += m.tokens;
    history.train.push({
      step: step + 1,
      loss: m.loss,
      aux_loss: m.auxLoss,
      z_loss: m.zLoss,
      loss_total: m.lossTotal,
      grad_norm: m.gradNorm,
      lr: m.lr,
      tokens: m.tokens,
    });
    if (m.tokensPerExpert) history.expertLoad = addLoads(history.expertLoad, m.tokensPerExpert);
    const elapsed = (performance.now() - t0) / 1000;
    bar?.tick(1, { loss: m.loss, lr: m.lr.toExponential(2), 'tok/s': String(Math.round(tokens / elapsed)) });
    const done = step + 1;
    if (done % cfg.eval.every === 0 && done !== cfg.steps) await validate(done);
    // The last step's checkpoint is written after the final validation (below), so it holds all of it.
    if ((done % cfg.checkpoint.every === 0 || done === end) && done !== cfg.steps) {
      saveCheckpoint(
        ckptRoot,
        model,
        optimizer,
        { step: done, dataCursor: stream.state(), extra: history, run },
        { keepLast: cfg.checkpoint.keep_last },
      );
    }
  }
  bar?.done();
  const seconds = (performance.now() - t0) / 1000;
  writeFileAtomic(join(cfg.out, 'metrics.jsonl'), history.train.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const result: StageResult = {
    out: cfg.out,
    history,
    validBefore: history.valid[0]?.loss ?? {},
    tokensPerSecond: seconds > 0 ? tokens / seconds : 0,
    stepsRun: end - start,
  };
  if (end < cfg.steps) return result;

  // 5. The end of the stage: validation, the final model with its tokenizer, plots and a summary. (A
  // finished stage run again with `resume` has all of it already.)
  const final = join(cfg.out, 'final');
  if (start === cfg.steps && existsSync(join(final, CHECKPOINT_TOKENIZER)) && history.valid.at(-1)?.step === cfg.steps) {
    log(`${cfg.stage}: already finished (${final})`);
    return { ...result, validAfter: history.valid.at(-1)!.loss, final };
  }
  await validate(cfg.steps);
  result.validAfter = history.valid.at(-1)!.loss;
  saveCheckpoint(
    ckptRoot,
    model,
    optimizer,
    { step: cfg.steps, dataCursor: stream.state(), extra: history, run },
    { keepLast: cfg.checkpoint.keep_last },
  );
  savePretrained(model, final);
  writeFileAtomic(join(final, CHECKPOINT_TOKENIZER), readFileSync(data.tokenizerPath));
  result.final = final;
  const plots = writeStagePlots(cfg.out, cfg.stage, history);
  writeFileAtomic(
    join(cfg.out, 'summary.json'),
    JSON.stringify(
      {
        stage: cfg.stage,
        steps: cfg.steps,
        final,
        valid_before: result.validBefore,
        valid_after: result.validAfter,
        tokens_per_second_last_run: result.tokensPerSecond,
        plots,
      },
      null,
      1,
    ) + '\n',
  );
  return result;
}

/**
 * The checkpoint to resume from: the newest intact one (a damaged newest is reported and skipped), which
 * must have been written by a run of the same identity; null when there is none (a fresh start).
 */
function resumePoint(
  cfg: StageConfig,
  root: string,
  identity: RunInfo['identity'],
  log: (l: string) => void,
): LoadedCheckpoint | null {
  return loadNewestIntact(root, {
    warn: log,
    check: (saved, path) => {
      if (!saved) return log(`${cfg.stage}: ${path} records no run identity (an older checkpoint); not checked`);
      const diff = identityDiff(saved.identity, identity);
      if (diff.length > 0)
        throw new Error(
          `${cfg.stage}: --resume: ${path} was written by a run with a different config (${diff.join('; ')}); ` +
            `resume with the config it was started with, or start afresh in another out folder`,
        );
    },
  });
}

function batchStream(cfg: StageConfig, data: PreparedData): BatchStream {
  const opts = { batchSize: cfg.batch_size, seqLen: cfg.seq_len, seed: cfg.seed, weights: cfg.data.weights };
  switch (cfg.stage) {
    case 'pretrain':
      return pretrainBatches(data, opts);
    case 'midtrain':
      return midtrainBatches(data, { ...opts, instructShare: cfg.data.instruct_share });
    case 'sft':
      return sftBatches(data, { ...opts, mode: cfg.data.sft_mode });
  }
}

/**
 * The next batch that has something to learn: with SFT's loss on assistant tokens only, a short packed
 * window can fall entirely inside system/user text (no targets; its mean loss would be 0/0). Such
 * batches are skipped — deterministically, so resuming still replays the same sequence.
 */
function nextWithTargets(stream: BatchStream, stage: string) {
  for (let tries = 0; tries < 1000; tries++) {
    const b = stream.next();
    if (b.targets > 0) return b;
  }
  throw new Error(`${stage}: 1000 batches in a row had no targets; raise seq_len`);
}

function addLoads(acc: number[][] | null, step: number[][]): number[][] {
  return acc ? acc.map((row, l) => row.map((v, e) => v + step[l]![e]!)) : step.map((r) => [...r]);
}
