// The decode matrix-vector product, TypeScript side: y = x·Wᵀ for a few rows of x (1…8 per kernel call)
// and a weight held in a weight arena (weight_arena.ts), in every format, on every core — the output
// rows are split into tasks. x is copied into the arena's scratch in the kernel's layout
// (matvec_kernel.ts), y is copied back out; the weight is read in place, once per 8 rows of x.

import { getNumThreads, parallelFor } from '../threads/pool.js';
import { defineJob } from '../threads/tasks.js';
import { checkPacked, type PackedWeight, type WeightFormat } from '../quant/formats.js';
import { matvecReference } from '../quant/matvec.js';
import { MAX_ROWS, matvecName, STEP } from './matvec_kernel.js';
import { simdSupported } from './runtime.js';
import { arenaHandle, arenaKernels, arenaOf, scratchOf, type ArenaHandle } from './weight_arena.js';

/** Calls since start by path: the arena kernels, or the TypeScript reference for a weight outside the arenas. */
const stats = { wasm: 0, reference: 0 };

export function matvecStats(): Readonly<typeof stats> {
  return { ...stats };
}

/**
 * Output rows per task: small enough that every thread gets several tasks (a loaded core then holds up
 * less), large enough that a task's fixed cost (the call, the row pointers) is nothing beside its reads.
 */
export const matvecTuning = { minTaskRows: 16, tasksPerThread: 4 };

interface MatvecArgs {
  arena: ArenaHandle;
  fn: string;
  x: number;
  w: number;
  rowBytes: number;
  steps: number;
  tail: number;
  y: number;
  ldy: number;
  outDim: number;
  chunk: number;
}

export function matvecTask(a: MatvecArgs, task: number): void {
  const o0 = task * a.chunk;
  const o1 = Math.min(a.outDim, o0 + a.chunk);
  arenaKernels(a.arena)[a.fn]!(a.x, a.w, a.rowBytes, a.steps, a.tail, a.y, a.ldy, o0, o1);
}

export const matvecJob = defineJob(import.meta.url, 'matvecTask', matvecTask);

/** True when `w` can take the WebAssembly kernels: SIMD validates and its array lies in a weight arena. */
export function inArena(w: PackedWeight): boolean {
  return simdSupported && arenaOf(w.data) !== null;
}

/**
 * y = x·Wᵀ for x [rows, in] float32 and W [out, in] in any format; y is [rows, out]. A weight in an
 * arena runs the WebAssembly SIMD kernels; any other runs matvecReference (copying it into an arena
 * for the call would read it twice: the copy costs as much as the product).
 */
export function wasmMatvec(
  x: Float32Array,
  rows: number,
  w: PackedWeight,
  out: Float32Array = new Float32Array(rows * w.shape[0]),
): Float32Array {
  if (!inArena(w)) {
    stats.reference++;
    return matvecReference(x, rows, w, out);
  }
  checkPacked('wasmMatvec', w);
  const [outDim, inDim] = w.shape;
  if (!Number.isInteger(rows) || rows < 0 || x.length !== rows * inDim)
    throw new Error(
      `wasmMatvec: x has ${x.length} values, expected rows·in = ${rows}·${inDim} for a weight [${outDim},${inDim}]`,
    );
  if (out.length !== rows * outDim)
    throw new Error(`wasmMatvec: the output holds ${out.length} values, expected rows·out = ${rows}·${outDim}`);
  stats.wasm++;
  for (let r0 = 0; r0 < rows; r0 += MAX_ROWS) {
    const R = Math.min(MAX_ROWS, rows - r0);
    runRows(x.subarray(r0 * inDim, (r0 + R) * inDim), R, w, out.subarray(r0 * outDim, (r0 + R) * outDim));
  }
  return out;
}

/** R ≤ 8 rows: pack x into the scratch, run the tasks, copy y out. */
function runRows(x: Float32Array, R: number, w: PackedWeight, out: Float32Array): void {
  const arena = arenaOf(w.data)!;
  const [outDim, inDim] = w.shape;
  const step = STEP[w.format];
  const steps = Math.floor(inDim / step.values);
  const tail = inDim - steps * step.values;
  const xFloats = steps * R * step.values + R * 8;
  const at = scratchOf(arena, 4 * (xFloats + R * outDim));
  const f32 = new Float32Array(arena.memory.buffer, at, xFloats + R * outDim);
  packX(f32, x, R, inDim, w.format, steps);
  const chunk = taskRows(outDim);
  const args: MatvecArgs = {
    arena: arenaHandle(arena),
    fn: matvecName(w.format, R),
    x: at,
    w: w.data.byteOffset,
    rowBytes: rowBytesOf(w.format, inDim),
    steps,
    tail,
    y: at + 4 * xFloats,
    ldy: 4 * outDim,
    outDim,
    chunk,
  };
  parallelFor(matvecJob, args, Math.ceil(outDim / chunk));
  out.set(f32.subarray(xFloats, xFloats + R * outDim));
}

function rowBytesOf(format: WeightFormat, inDim: number): number {
  if (format === 'float32') return 4 * inDim;
  if (format === 'bfloat16' || format === 'float16') return 2 * inDim;
  return (inDim / STEP[format].values) * STEP[format].bytes;
}

/** Output rows per task, a multiple of 4 (the kernels' widest group of output rows). */
function taskRows(outDim: number): number {
  const { minTaskRows, tasksPerThread } = matvecTuning;
  const even = Math.ceil(outDim / (getNumThreads() * tasksPerThread));
  return Math.ceil(Math.max(minTaskRows, even) / 4) * 4;
}

/**
 * x [R, in] → the kernel's layout: [step][row][values of the step] (bfloat16/float16 steps de-interleaved:
 * x0 x2 x4 x6 x1 x3 x5 x7), then the tail [row][8 slots].
 */
function packX(f32: Float32Array, x: Float32Array, R: number, inDim: number, format: WeightFormat, steps: number): void {
  const n = STEP[format].values;
  const split = STEP[format].deinterleave;
  let p = 0;
  for (let s = 0; s < steps; s++) {
    for (let r = 0; r < R; r++) {
      const src = r * inDim + s * n;
      if (split) {
        for (let j = 0; j < 4; j++) {
          f32[p + j] = x[src + 2 * j]!;
          f32[p + 4 + j] = x[src + 2 * j + 1]!;
        }
      } else {
        f32.set(x.subarray(src, src + n), p);
      }
      p += n;
    }
  }
  const done = steps * n;
  for (let r = 0; r < R; r++) {
    f32.fill(0, p, p + 8);
    f32.set(x.subarray(r * inDim + done, (r + 1) * inDim), p);
    p += 8;
  }
}
