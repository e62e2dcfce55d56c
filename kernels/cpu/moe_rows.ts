// The row work of the MoE layer around its expert GEMMs — forward: gathering each expert's tokens, the
// SwiGLU between the projections, the weighted combine back into token order; backward: w·dy and
// ⟨dy, Y⟩ per row, the SwiGLU gradient, the scatter of token gradients — as tasks over blocks of rows,
// so that every thread takes part (single-threaded, the forward's cost as much as its GEMMs: e.g. 90 ms
// beside 130 ms at N 2048, E 128, K 8). Each task writes only its own rows, so the results do not
// depend on how many threads ran them; combine and scatter sum each token's rows in row (= expert)
// order, as the serial loops and HF's index_add_ do.

import type { TypedArray } from '../../core/dtype.js';
import type { Buf } from '../../core/kernel_types.js';
import { sigmoid } from './math.js';
import type { MoePlan } from './moe_plan.js';
import { allocFor, asShared, isShared } from './shared.js';
import { getNumThreads, parallelFor } from './threads/pool.js';
import { defineJob, type Job } from './threads/tasks.js';

/** Values per task: enough to outweigh a task's claim, few enough to balance two threads. */
const TASK_VALUES = 65536;
const rowsPerTask = (width: number) => Math.max(1, Math.floor(TASK_VALUES / Math.max(1, width)));

interface GatherArgs {
  x: TypedArray;
  xs: TypedArray;
  rowToken: Int32Array;
  H: number;
  A: number;
  per: number;
}

export function moeGatherTask(g: GatherArgs, task: number): void {
  const end = Math.min(g.A, (task + 1) * g.per);
  for (let r = task * g.per; r < end; r++) g.xs.set(g.x.subarray(g.rowToken[r]! * g.H, (g.rowToken[r]! + 1) * g.H), r * g.H);
}

export const moeGatherJob = defineJob(import.meta.url, 'moeGatherTask', moeGatherTask);

interface SwigluArgs {
  G: TypedArray;
  U: TypedArray;
  h: TypedArray;
  n: number;
  per: number;
}

export function moeSwigluTask(s: SwigluArgs, task: number): void {
  const end = Math.min(s.n, (task + 1) * s.per);
  const { G, U, h } = s;
  for (let i = task * s.per; i < end; i++) h[i] = G[i]! * sigmoid(G[i]!) * U[i]!;
}

export const moeSwigluJob = defineJob(import.meta.url, 'moeSwigluTask', moeSwigluTask);

interface CombineArgs {
  Y: TypedArray;
  y: TypedArray;
  /** Routing weights [N, K]; null adds the rows as they are (the backward's scatter). */
  weights: TypedArray | null;
  /** tokenRows[tokenStart[t]..tokenStart[t+1]) are token t's rows, ascending. */
  tokenStart: Int32Array;
  tokenRows: Int32Array;
  rowSlot: Int32Array;
  H: number;
  K: number;
  N: number;
  per: number;
}

export function moeCombineTask(c: CombineArgs, task: number): void {
  const end = Math.min(c.N, (task + 1) * c.per);
  const { Y, y, H } = c;
  for (let t = task * c.per; t < end; t++) {
    for (let j = c.tokenStart[t]!; j < c.tokenStart[t + 1]!; j++) {
      const r = c.tokenRows[j]!;
      const w = c.weights === null ? 1 : c.weights[t * c.K + c.rowSlot[r]!]!; // 1·v is v exactly
      for (let d = 0; d < H; d++) y[t * H + d] += w * Y[r * H + d]!;
    }
  }
}

export const moeCombineJob = defineJob(import.meta.url, 'moeCombineTask', moeCombineTask);

interface RowGradArgs {
  dy: TypedArray;
  Y: TypedArray;
  weights: TypedArray;
  rowToken: Int32Array;
  rowSlot: Int32Array;
  dYw: TypedArray;
  dw: TypedArray;
  H: number;
  K: number;
  A: number;
  per: number;
}

/** Backward, per row r of token t: dYw[r] = w·dy[t], and the routing weight's gradient ⟨dy[t], Y[r]⟩. */
export function moeRowGradTask(g: RowGradArgs, task: number): void {
  const end = Math.min(g.A, (task + 1) * g.per);
  const { dy, Y, dYw, H } = g;
  for (let r = task * g.per; r < end; r++) {
    const t = g.rowToken[r]!;
    const w = g.weights[t * g.K + g.rowSlot[r]!]!;
    let dot = 0;
    for (let d = 0; d < H; d++) {
      dYw[r * H + d] = w * dy[t * H + d]!;
      dot += dy[t * H + d]! * Y[r * H + d]!;
    }
    g.dw[t * g.K + g.rowSlot[r]!] = dot;
  }
}

export const moeRowGradJob = defineJob(import.meta.url, 'moeRowGradTask', moeRowGradTask);

interface SwigluGradArgs {
  G: TypedArray;
  U: TypedArray;
  dH: TypedArray;
  dG: TypedArray;
  dU: TypedArray;
  n: number;
  per: number;
}

/** Backward of h = silu(g)·u: dg = dh·u·silu′(g), du = dh·silu(g). */
export function moeSwigluGradTask(s: SwigluGradArgs, task: number): void {
  const end = Math.min(s.n, (task + 1) * s.per);
  const { G, U, dH, dG, dU } = s;
  for (let i = task * s.per; i < end; i++) {
    const g = G[i]!;
    const sg = sigmoid(g);
    dG[i] = dH[i]! * U[i]! * sg * (1 + g * (1 - sg));
    dU[i] = dH[i]! * g * sg;
  }
}

export const moeSwigluGradJob = defineJob(import.meta.url, 'moeSwigluGradTask', moeSwigluGradTask);

/** Run `count` tasks on the pool when there is more than one thread and every array is shared, else here. */
function run<A extends object>(job: Job<A>, args: A, count: number): void {
  const arrays = Object.values(args).filter((v): v is TypedArray => ArrayBuffer.isView(v));
  if (count > 1 && getNumThreads() > 1 && arrays.every(isShared)) parallelFor(job, args, count);
  else for (let t = 0; t < count; t++) job.run(args, t, 0);
}

/** Xs[r] = x[rowToken[r]]: the tokens in expert-sorted order. */
export function gatherRows(x: Buf<TypedArray>, plan: MoePlan, H: number): TypedArray {
  const xs = allocFor(x.dtype, plan.A * H);
  const per = rowsPerTask(H);
  run(moeGatherJob, { x: x.data, xs, rowToken: asShared(plan.rowToken), H, A: plan.A, per }, Math.ceil(plan.A / per));
  return xs;
}

/** h = silu(G)·U over n values. */
export function swigluAll(G: TypedArray, U: TypedArray, h: TypedArray, n: number): void {
  const per = TASK_VALUES;
  run(moeSwigluJob, { G, U, h, n, per }, Math.ceil(n / per));
}

/** Each token's rows, ascending: tokenRows[tokenStart[t]..tokenStart[t+1]) (a counting sort of rowToken). */
function tokenRowsOf(plan: MoePlan, N: number): { tokenStart: Int32Array; tokenRows: Int32Array } {
  const tokenStart = new Int32Array(N + 1);
  for (let r = 0; r < plan.A; r++) tokenStart[plan.rowToken[r]! + 1]!++;
  for (let t = 0; t < N; t++) tokenStart[t + 1]! += tokenStart[t]!;
  const fill = tokenStart.slice(0, N);
  const tokenRows = new Int32Array(plan.A);
  for (let r = 0; r < plan.A; r++) tokenRows[fill[plan.rowToken[r]!]!++] = r;
  return { tokenStart: asShared(tokenStart), tokenRows: asShared(tokenRows) };
}

/** y [N, H] += Σ over each token's rows of its routing weight · Y[row], in row order. */
export function combineRows(
  Y: TypedArray,
  weights: TypedArray,
  plan: MoePlan,
  N: number,
  H: number,
  K: number,
  y: TypedArray,
): void {
  addTokenRows(Y, asShared(weights), plan, N, H, K, y);
}

/** dx [N, H] += Σ over each token's rows of dXs[row], in row order (the backward's scatter). */
export function scatterRows(dXs: TypedArray, plan: MoePlan, N: number, H: number, dx: TypedArray): void {
  addTokenRows(dXs, null, plan, N, H, 1, dx);
}

function addTokenRows(
  Y: TypedArray,
  weights: TypedArray | null,
  plan: MoePlan,
  N: number,
  H: number,
  K: number,
  y: TypedArray,
): void {
  const per = rowsPerTask(H * Math.max(1, plan.A / Math.max(1, N))); // a token has A/N rows on average
  const args = { Y, y, weights, ...tokenRowsOf(plan, N), rowSlot: asShared(plan.rowSlot), H, K, N, per };
  run(moeCombineJob, args, Math.ceil(N / per));
}

/** dYw = w·dy per row and dw = ⟨dy, Y⟩ per (token, slot), over every row. */
export function rowGrads(
  dy: TypedArray,
  Y: TypedArray,
  weights: TypedArray,
  plan: MoePlan,
  H: number,
  K: number,
  dYw: TypedArray,
  dw: TypedArray,
): void {
  const per = rowsPerTask(2 * H);
  const args = {
    dy,
    Y,
    weights: asShared(weights),
    rowToken: asShared(plan.rowToken),
    rowSlot: asShared(plan.rowSlot),
    dYw,
    dw,
    H,
    K,
    A: plan.A,
    per,
  };
  run(moeRowGradJob, args, Math.ceil(plan.A / per));
}

/** dG, dU from dH through h = silu(G)·U, over n values. */
export function swigluGradAll(G: TypedArray, U: TypedArray, dH: TypedArray, dG: TypedArray, dU: TypedArray, n: number): void {
  const per = TASK_VALUES;
  run(moeSwigluGradJob, { G, U, dH, dG, dU, n, per }, Math.ceil(n / per));
}
