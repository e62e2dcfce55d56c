// The row work of the MoE forward around its grouped GEMMs — gathering each expert's tokens, the
// SwiGLU between the projections, and the weighted combine back into token order — as tasks over
// blocks of rows, so that every thread takes part (single-threaded, they cost as much as the GEMMs:
// e.g. 90 ms beside 130 ms of GEMMs at N 2048, E 128, K 8). Each task writes only its own rows, so
// the results do not depend on how many threads ran them; the combine sums each token's expert
// outputs in row (= expert) order, as the serial loop and HF's index_add_ do.

import type { TypedArray } from '../../core/dtype.js';
import type { Buf } from '../../core/kernel_types.js';
import { sigmoid } from './math.js';
import type { MoePlan } from './moe_plan.js';
import { allocFor, asShared, isShared } from './shared.js';
import { getNumThreads, parallelFor } from './threads/pool.js';

/** Rows per task: ~64 K values, enough to outweigh a task's claim, small enough to balance two threads. */
const rowsPerTask = (width: number) => Math.max(1, Math.floor(65536 / Math.max(1, width)));

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

interface CombineArgs {
  Y: TypedArray;
  y: TypedArray;
  weights: TypedArray;
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
      const w = c.weights[t * c.K + c.rowSlot[r]!]!;
      for (let d = 0; d < H; d++) y[t * H + d] += w * Y[r * H + d]!;
    }
  }
}

/** Run `count` tasks on the pool when there is more than one thread and every array is shared, else here. */
function run<A extends object>(job: 'moeGather' | 'moeSwiglu' | 'moeCombine', task: (a: A, t: number) => void, args: A, count: number): void {
  const arrays = Object.values(args).filter((v): v is TypedArray => ArrayBuffer.isView(v));
  if (count > 1 && getNumThreads() > 1 && arrays.every(isShared)) parallelFor(job, args, count);
  else for (let t = 0; t < count; t++) task(args, t);
}

/** Xs[r] = x[rowToken[r]]: the tokens in expert-sorted order. */
export function gatherRows(x: Buf<TypedArray>, plan: MoePlan, H: number): TypedArray {
  const xs = allocFor(x.dtype, plan.A * H);
  const per = rowsPerTask(H);
  run('moeGather', moeGatherTask, { x: x.data, xs, rowToken: asShared(plan.rowToken), H, A: plan.A, per }, Math.ceil(plan.A / per));
  return xs;
}

/** h = silu(G)·U over n values. */
export function swigluAll(G: TypedArray, U: TypedArray, h: TypedArray, n: number): void {
  const per = 65536;
  run('moeSwiglu', moeSwigluTask, { G, U, h, n, per }, Math.ceil(n / per));
}

/** y [N, H] = Σ over each token's rows of its routing weight · Y[row], in row order. */
export function combineRows(Y: TypedArray, weights: TypedArray, plan: MoePlan, N: number, H: number, K: number, y: TypedArray): void {
  const tokenStart = new Int32Array(N + 1);
  for (let r = 0; r < plan.A; r++) tokenStart[plan.rowToken[r]! + 1]!++;
  for (let t = 0; t < N; t++) tokenStart[t + 1]! += tokenStart[t]!;
  const fill = tokenStart.slice(0, N);
  const tokenRows = new Int32Array(plan.A);
  for (let r = 0; r < plan.A; r++) tokenRows[fill[plan.rowToken[r]!]!++] = r;
  const per = rowsPerTask(H * K);
  const args = { Y, y, weights: asShared(weights), tokenStart: asShared(tokenStart), tokenRows: asShared(tokenRows), rowSlot: asShared(plan.rowSlot), H, K, N, per };
  run('moeCombine', moeCombineTask, args, Math.ceil(N / per));
}
