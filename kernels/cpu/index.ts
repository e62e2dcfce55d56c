// The CPU backend: storage is a host typed array and every kernel is a readable plain loop. Its table
// is assembled from the family files' tables (norm.ts's `normKernels`, ...) and is complete by
// construction: `satisfies Backend` makes a missing kernel a compile error.

import { isStorageDtype, type DType, type TypedArray } from '../../core/dtype.js';
import type { Backend } from '../../core/kernel_types.js';
import { adamwKernels } from './adamw.js';
import { attentionKernels } from './attention.js';
import { attentionBackwardKernels } from './attention_backward.js';
import { crossEntropyKernels } from './cross_entropy.js';
import { elementwiseKernels } from './elementwise.js';
import { indexingKernels } from './indexing.js';
import { matmulKernels } from './matmul.js';
import { moeKernels } from './moe.js';
import { moeBackwardKernels } from './moe_backward.js';
import { normKernels } from './norm.js';
import { reduceKernels } from './reduce.js';
import { ropeKernels } from './rope.js';
import { cpuSettings } from './settings.js';
import { asShared, SHARED_MIN } from './shared.js';
import { swigluKernels } from './swiglu.js';
import { placeInArena } from './wasm/weight_arena.js';
import { withStoredWeights } from './weight_linear.js';

export const cpu = {
  name: 'cpu',
  // One table per kernel family file; `satisfies Backend` below makes a key missing from all of them
  // (or a misspelt one) a compile error.
  kernels: {
    ...elementwiseKernels,
    ...reduceKernels,
    ...indexingKernels,
    // Weights kept in a storage dtype (bfloat16, q8_0, ...) take their own path; float ones the GEMM.
    ...withStoredWeights(matmulKernels),
    ...normKernels,
    ...ropeKernels,
    ...swigluKernels,
    ...crossEntropyKernels,
    ...adamwKernels,
    ...attentionKernels,
    ...attentionBackwardKernels,
    ...moeKernels,
    ...moeBackwardKernels,
  },
  // The host array *is* the storage: uploading takes ownership (moving a large array into shared
  // memory once, so threaded kernels never copy it again); reading returns a copy so callers can
  // never mutate a tensor through the array they were given.
  // A large weight in a storage dtype goes into a weight arena, where the decode kernels read it in place.
  upload: (data: TypedArray, dtype: DType) => {
    if (data.length < SHARED_MIN) return data;
    const placed = isStorageDtype(dtype) ? placeInArena(data as Uint16Array | Uint8Array) : data;
    return placed !== data ? placed : asShared(data);
  },
  read: async (buf) => buf.data.slice(),
  readSync: (buf) => buf.data.slice(),
  length: (data: TypedArray) => data.length,
  // Thread count and ts/wasm kernels (core's getNumThreads/setCpuKernels & co. go through these).
  settings: cpuSettings,
} satisfies Backend<TypedArray>;
