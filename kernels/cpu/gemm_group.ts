// Many independent products x_e·w_eᵀ in one parallel job: the grouped GEMM of a mixture-of-experts layer
// (one product per expert, each over that expert's rows). Called one by one, each small product pays a
// thread-pool round trip and is split into tiles too small to keep both cores busy; grouped, every
// product keeps full-size tiles and the threads claim tiles across all of them. WebAssembly float32 only
// (with threads); anything else runs the products one by one through `gemm`.

import type { Buf, OutSpec } from '../../core/kernel_types.js';
import type { TypedArray } from '../../core/dtype.js';
import { ACTIVATIONS, tileSize } from './gemm.js';
import { gemm, NO_EPILOGUE } from './matmul.js';
import { isShared } from './shared.js';
import { getNumThreads, parallelFor } from './threads/pool.js';
import { defineJob } from './threads/tasks.js';
import { GEMM_THREAD_BYTES, WASM_MC, WASM_NC, wasmGemmTask, type WasmGemmArgs } from './wasm/gemm.js';
import { MR as WASM_MR } from './wasm/gemm_kernel.js';
import { countWasmCall, reserveBytes, useWasm, wasmHandle } from './wasm/runtime.js';

/** One product: into (zero-filled, [M, N]) = a [M, K] · bᵀ (b is [N, K]). */
export interface GroupItem {
  a: Buf<TypedArray>;
  b: Buf<TypedArray>;
  out: OutSpec;
  into: TypedArray;
}

/** The job's arguments: each product's GEMM arguments, and where its tiles start in the task numbering. */
export interface GroupArgs {
  parts: WasmGemmArgs[];
  starts: Int32Array;
}

/** Task → (product, its tile), by binary search over the starts. */
export function wasmGemmGroupTask(g: GroupArgs, task: number, thread: number): void {
  let [lo, hi] = [0, g.parts.length - 1];
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (g.starts[mid]! <= task) lo = mid;
    else hi = mid - 1;
  }
  wasmGemmTask(g.parts[lo]!, task - g.starts[lo]!, thread);
}

export const wasmGemmGroupJob = defineJob(import.meta.url, 'wasmGemmGroupTask', wasmGemmGroupTask);

export function gemmGroup(items: readonly GroupItem[]): void {
  const threads = getNumThreads();
  const grouped =
    threads > 1 &&
    useWasm() &&
    items.every(
      (it) =>
        it.out.dtype === 'float32' &&
        it.a.shape[0]! >= WASM_MR &&
        it.a.shape[1]! > 0 &&
        isShared(it.into) &&
        isShared(it.a.data) &&
        isShared(it.b.data),
    ) &&
    reserveBytes(threads * GEMM_THREAD_BYTES);
  if (!grouped) {
    for (const it of items) gemm(it.a, it.b, false, true, it.out, NO_EPILOGUE, it.into);
    return;
  }
  countWasmCall('matmul');
  const wasm = wasmHandle();
  const parts: WasmGemmArgs[] = [];
  const starts = new Int32Array(items.length);
  let total = 0;
  items.forEach((it, i) => {
    const [M, K] = it.a.shape as [number, number];
    const N = it.b.shape[0]!;
    // Full-size tiles: the group, not the split of one product, gives the threads their work.
    const tiles = tileSize(M, N, 1, 1, { mc: WASM_MC, nc: WASM_NC });
    const part: WasmGemmArgs = {
      a: it.a.data,
      b: it.b.data,
      c: it.into,
      M,
      N,
      K,
      aOff: Int32Array.of(0),
      bOff: Int32Array.of(0),
      sAi: K,
      sAp: 1,
      sBp: 1,
      sBj: K,
      ...tiles,
      mTiles: Math.ceil(M / tiles.mc),
      nTiles: Math.ceil(N / tiles.nc),
      bias: null,
      residual: null,
      activation: ACTIVATIONS.indexOf('none'),
      pre: null,
      wasm,
    };
    starts[i] = total;
    total += part.mTiles * part.nTiles;
    parts.push(part);
  });
  if (total > 0) parallelFor(wasmGemmGroupJob, { parts, starts } satisfies GroupArgs, total);
}
