// What a stage leaves for people to look at: SVG plots of the training loss with the validation loss per
// sub-corpus, the learning rate, and for MoE a heat map of the share of routed tokens each expert took in
// each sparse layer over the stage (an even load is 1/E everywhere).

import { join } from 'node:path';
import { writeFileAtomic } from '../model/io/atomic_write.js';
import { heatmapSvg, lineChartSvg, type Series } from './plot.js';

export interface TrainRecord {
  step: number;
  loss: number;
  aux_loss: number;
  z_loss: number;
  loss_total: number;
  grad_norm: number;
  lr: number;
  tokens: number;
}

export interface StageHistory {
  train: TrainRecord[];
  /** Validation loss per sub-corpus at a step (0 = before training). */
  valid: { step: number; loss: Record<string, number> }[];
  /** MoE: tokens each expert received over the stage, per sparse layer. */
  expertLoad: number[][] | null;
}

/** A moving average over `w` points (the raw per-step loss is noisy). */
export function smooth(points: [number, number][], w: number): [number, number][] {
  return points.map(([x], i) => {
    const lo = Math.max(0, i - w + 1);
    const win = points.slice(lo, i + 1);
    return [x, win.reduce((s, [, y]) => s + y, 0) / win.length];
  });
}

/** Write loss.svg, lr.svg and (MoE) experts.svg into `out`; returns their paths. */
export function writeStagePlots(out: string, stage: string, h: StageHistory): string[] {
  const written: string[] = [];
  const put = (name: string, svg: string) => {
    writeFileAtomic(join(out, name), svg);
    written.push(join(out, name));
  };
  const train: [number, number][] = h.train.map((r) => [r.step, r.loss]);
  const series: Series[] = [{ name: 'train (smoothed)', points: smooth(train, Math.max(1, Math.round(train.length / 30))) }];
  const names = [...new Set(h.valid.flatMap((v) => Object.keys(v.loss)))];
  for (const n of names)
    series.push({
      name: `valid ${n}`,
      points: h.valid.filter((v) => n in v.loss).map((v) => [v.step, v.loss[n]!] as [number, number]),
    });
  put('loss.svg', lineChartSvg(series, { title: `${stage}: loss per token`, xLabel: 'step', yLabel: 'cross-entropy (nats)' }));
  put(
    'lr.svg',
    lineChartSvg([{ name: 'lr', points: h.train.map((r) => [r.step, r.lr]) }], {
      title: `${stage}: learning rate`,
      xLabel: 'step',
      yLabel: 'lr',
    }),
  );
  if (h.expertLoad) {
    const shares = h.expertLoad.map((row) => {
      const total = row.reduce((a, b) => a + b, 0);
      return row.map((v) => (total > 0 ? v / total : 0));
    });
    put(
      'experts.svg',
      heatmapSvg(shares, {
        title: `${stage}: share of routed tokens per expert`,
        rowLabels: shares.map((_, i) => `sparse layer ${i}`),
        colLabels: shares[0]!.map((_, e) => String(e)),
        valueLabel: `share (even = ${(1 / shares[0]!.length).toFixed(3)})`,
      }),
    );
  }
  return written;
}
