// The GPU kernel table: every kernel family's group (one per file, as kernels/cpu) bound to one
// runtime. Keys missing here fall back to the CPU (fallback.ts); `createGpuBackend(...).fallbacks` lists
// them, and test/kernels/gpu/parity.test.ts prints which keys have a GPU kernel and which GPU test names each.

import { adamwKernels } from './adamw.js';
import { attentionKernels } from './attention.js';
import { attentionBackwardKernels } from './attention_backward.js';
import type { GpuKernels } from './common.js';
import { crossEntropyKernels } from './cross_entropy.js';
import { elementwiseKernels } from './elementwise.js';
import { indexingKernels } from './indexing.js';
import { matmulKernels } from './matmul.js';
import { moeKernels } from './moe.js';
import { moeBackwardKernels } from './moe_backward.js';
import { normKernels } from './norm.js';
import { reduceKernels } from './reduce.js';
import { ropeKernels } from './rope.js';
import type { Runtime } from './runtime.js';
import { swigluKernels } from './swiglu.js';

export function GPU_KERNELS(rt: Runtime): GpuKernels {
  return {
    ...elementwiseKernels(rt),
    ...reduceKernels(rt),
    ...matmulKernels(rt),
    ...normKernels(rt),
    ...ropeKernels(rt),
    ...swigluKernels(rt),
    ...crossEntropyKernels(rt),
    ...adamwKernels(rt),
    ...attentionKernels(rt),
    ...attentionBackwardKernels(rt),
    ...indexingKernels(rt),
    ...moeKernels(rt),
    ...moeBackwardKernels(rt),
  };
}
