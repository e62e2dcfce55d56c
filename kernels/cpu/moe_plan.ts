// The dispatch plan of a mixture-of-experts layer: a counting sort of the (token, slot) assignments by
// expert, so each expert's rows are one contiguous segment (the layout grouped-GEMM MoE kernels use).
// Within an expert, assignments keep token order; with a capacity, the later ones are dropped.

import { allocFor } from './shared.js';

export interface MoePlan {
  E: number;
  /** Assignments kept (= N·K when nothing is dropped). */
  A: number;
  /** offsets[e]..offsets[e+1] are expert e's rows in the sorted order. */
  offsets: Int32Array;
  /** For each sorted row: its token and its top-k slot. */
  rowToken: Int32Array;
  rowSlot: Int32Array;
}

/** Sort the assignments of `indices` [N, K] by expert (stable in token order), keeping at most `capacity` per expert (−1: all). */
export function planAssignments(indices: ArrayLike<number>, N: number, K: number, E: number, capacity: number): MoePlan {
  const kept = new Int32Array(E);
  for (let a = 0; a < N * K; a++) {
    const e = indices[a];
    if (!(e >= 0 && e < E)) throw new Error(`moe: expert index ${e} of assignment ${a} is out of range for ${E} experts`);
    if (capacity < 0 || kept[e] < capacity) kept[e]++;
  }
  const offsets = new Int32Array(E + 1);
  for (let e = 0; e < E; e++) offsets[e + 1] = offsets[e] + kept[e];
  const A = offsets[E];
  // Shared when large, so the row tasks (moe_rows.ts) read them on every thread without a copy.
  const rowToken = allocFor('int32', A);
  const rowSlot = allocFor('int32', A);
  const next = offsets.slice(0, E);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < K; j++) {
      const e = indices[n * K + j];
      if (next[e] === offsets[e + 1]) continue; // over capacity: dropped
      const r = next[e]++;
      rowToken[r] = n;
      rowSlot[r] = j;
    }
  }
  return { E, A, offsets, rowToken, rowSlot };
}

/** The plan as one int32 array [E, A, offsets…, rowToken…, rowSlot…], to keep beside the tensors for the backward. */
export function encodePlan(p: MoePlan): Int32Array {
  const out = new Int32Array(2 + p.E + 1 + 2 * p.A);
  out[0] = p.E;
  out[1] = p.A;
  out.set(p.offsets, 2);
  out.set(p.rowToken, 3 + p.E);
  out.set(p.rowSlot, 3 + p.E + p.A);
  return out;
}

export function decodePlan(a: ArrayLike<number>): MoePlan {
  const [E, A] = [a[0], a[1]];
  const view = (from: number, n: number) => {
    const out = allocFor('int32', n);
    for (let i = 0; i < n; i++) out[i] = a[from + i];
    return out;
  };
  return { E, A, offsets: view(2, E + 1), rowToken: view(3 + E, A), rowSlot: view(3 + E + A, A) };
}
