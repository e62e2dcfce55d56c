// One optimizer step over n micro-batches: for each, forward with labels (−100 ignored; HF shifts them),
// loss = CE + auxCoef·aux + zCoef·z for MoE, scaled by 1/n, backward (gradients accumulate); then the
// global-norm clip and one AdamW update at lr. Returns the step's metrics. It does not pick the lr or
// the batches: the caller (replay, the stage runner) owns the schedule and the data.

import { noGrad, type Tensor } from '../core/index.js';
import { architecture, type CausalLM } from '../model/causal_lm.js';
import { routerZLoss } from '../model/moe_losses.js';
import type { AdamW } from './optim/adamw.js';
import { clipGradNorm_, globalGradNorm } from './optim/clip.js';

/** One micro-batch: int32 [B, T] ids and labels (labels[t+1] is the target of position t; −100 ignored). */
export interface MicroBatch {
  inputIds: Tensor;
  labels: Tensor;
  /** 1 for real tokens, 0 for padding [B, T]. */
  attentionMask?: Tensor;
  /** Explicit int32 positions [B, T] (packed documents restart at 0). */
  positionIds?: Tensor;
}

export interface TrainStepOptions {
  /** The learning rate of this update (from the schedule). */
  lr: number;
  /** Clip the global gradient norm to this (none when absent). */
  maxGradNorm?: number;
  /** Coefficient of the load-balancing loss (MoE; default the config's router_aux_loss_coef). */
  auxLossCoef?: number;
  /** Coefficient of the router z-loss (MoE; default 0, LLM-jp-4 used 1e-3). */
  zLossCoef?: number;
  /** Also count the tokens each expert received, per sparse layer (reads the routing back). */
  routing?: boolean;
}

export interface StepMetrics {
  /** Cross-entropy, the mean over micro-batches of each micro-batch's mean over its targets. */
  loss: number;
  /** Load-balancing loss, unscaled (0 for a dense model). */
  auxLoss: number;
  /** Router z-loss, unscaled (0 for a dense model). */
  zLoss: number;
  /** What was backpropagated: loss + auxCoef·auxLoss + zCoef·zLoss. */
  lossTotal: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  clipCoef: number;
  lr: number;
  /** Input positions processed (real tokens when there is an attention mask). */
  tokens: number;
  /** Positions with a target (labels ≠ −100 after the shift). */
  targets: number;
  /** Per sparse layer, the top-k assignments each expert received (with `routing`). */
  tokensPerExpert?: number[][];
}

/** Validate a micro-batch and count its tokens and targets (labels are read back: they are small). */
async function countBatch(b: MicroBatch, i: number): Promise<{ tokens: number; targets: number }> {
  const where = `trainStep: micro-batch ${i}`;
  if (b.inputIds.ndim !== 2 || b.inputIds.dtype !== 'int32')
    throw new Error(`${where}: inputIds must be int32 [B, T], got ${b.inputIds.dtype} [${b.inputIds.shape}]`);
  const [B, T] = b.inputIds.shape as [number, number];
  if (b.labels.dtype !== 'int32' || b.labels.shape.join() !== `${B},${T}`)
    throw new Error(`${where}: labels must be int32 [${B}, ${T}] like inputIds, got ${b.labels.dtype} [${b.labels.shape}]`);
  const labels = await b.labels.data();
  let targets = 0;
  for (let r = 0; r < B; r++) for (let t = 1; t < T; t++) if (labels[r * T + t] !== -100) targets++;
  if (targets === 0) throw new Error(`${where}: no targets (every shifted label is -100); its mean loss would be 0/0`);
  let tokens = B * T;
  if (b.attentionMask) {
    if (b.attentionMask.shape.join() !== `${B},${T}`)
      throw new Error(`${where}: attentionMask must be [${B}, ${T}], got [${b.attentionMask.shape}]`);
    tokens = 0;
    for (const m of await b.attentionMask.data()) if (m !== 0) tokens++;
  }
  return { tokens, targets };
}

export async function trainStep(
  model: CausalLM,
  optimizer: AdamW,
  microBatches: readonly MicroBatch[],
  o: TrainStepOptions,
): Promise<StepMetrics> {
  const n = microBatches.length;
  if (n === 0) throw new Error('trainStep: no micro-batches');
  // The routing config of a mixture of experts (router logits, aux and z losses), null for a dense model.
  const moe = architecture(model.config).moe(model.config);
  const auxCoef = o.auxLossCoef ?? moe?.router_aux_loss_coef ?? 0;
  const zCoef = o.zLossCoef ?? 0;
  const counts = await Promise.all(microBatches.map(countBatch));
  const sums = { loss: 0, auxLoss: 0, zLoss: 0, lossTotal: 0 };
  let tokensPerExpert: number[][] | undefined;

  optimizer.zeroGrad();
  for (const b of microBatches) {
    const out = model.forward(b.inputIds, {
      labels: b.labels,
      attentionMask: b.attentionMask,
      positionIds: b.positionIds,
      outputRouterLogits: moe !== null,
    });
    const ce = out.ceLoss!;
    let total = ce;
    // Terms with a zero coefficient are left out of the graph, so a CE-only run is bit-identical to one without them.
    const aux = out.auxLoss;
    if (aux && auxCoef !== 0) total = total.add(aux.mul(auxCoef));
    const z = moe && out.routerLogits.length > 0 ? routerZLoss(out.routerLogits) : undefined;
    if (z && zCoef !== 0) total = total.add(z.mul(zCoef));
    // Each micro-batch's mean loss weighs 1/n, so n micro-batches of b rows ≡ one batch of n·b rows
    // when every micro-batch has the same number of targets.
    (n === 1 ? total : total.mul(1 / n)).backward();
    sums.loss += await ce.item();
    sums.auxLoss += aux ? await aux.item() : 0;
    sums.zLoss += z ? await z.item() : 0;
    sums.lossTotal += await total.item();
    if (o.routing && moe) tokensPerExpert = await addRouting(tokensPerExpert, out.routerLogits, moe.num_experts_per_tok);
  }

  const params = optimizer.parameters();
  const clip =
    o.maxGradNorm === undefined ? { norm: await globalGradNorm(params), coef: 1 } : await clipGradNorm_(params, o.maxGradNorm);
  optimizer.update(o.lr);
  optimizer.zeroGrad();
  const metrics: StepMetrics = {
    loss: sums.loss / n,
    auxLoss: sums.auxLoss / n,
    zLoss: sums.zLoss / n,
    lossTotal: sums.lossTotal / n,
    gradNorm: clip.norm,
    clipCoef: clip.coef,
    lr: o.lr,
    tokens: counts.reduce((a, c) => a + c.tokens, 0),
    targets: counts.reduce((a, c) => a + c.targets, 0),
  };
  if (tokensPerExpert) metrics.tokensPerExpert = tokensPerExpert;
  return metrics;
}

/** Add each sparse layer's top-k assignment counts (top-k of the logits = top-k of the softmax). */
async function addRouting(acc: number[][] | undefined, routerLogits: readonly Tensor[], k: number): Promise<number[][]> {
  const counts = await Promise.all(noGrad(() => routerLogits.map((z) => z.topk(k).indices)).map((t) => t.data()));
  const out = acc ?? routerLogits.map((z) => new Array<number>(z.shape[1]!).fill(0));
  counts.forEach((idx, l) => idx.forEach((e) => out[l]![e]!++));
  return out;
}
