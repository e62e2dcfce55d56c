// The CPU backend: storage is a host typed array and every kernel is a readable plain loop.
// This table is complete by construction — `satisfies Backend` makes a missing kernel a compile error.

import type { TypedArray } from '../../core/dtype.js';
import type { Backend } from '../../core/kernel_types.js';
import * as ew from './elementwise.js';
import { cat, gather, indexAdd, indexSelect, scatterAdd } from './indexing.js';
import { linear, matmul } from './matmul.js';
import { adamw } from './adamw.js';
import { attention } from './attention.js';
import { attentionBackward } from './attention_backward.js';
import { crossEntropy, crossEntropyBackward } from './cross_entropy.js';
import { moe } from './moe.js';
import { moeBackward } from './moe_backward.js';
import { rmsNorm, rmsNormBackward } from './norm.js';
import { rope } from './rope.js';
import { asShared, SHARED_MIN } from './shared.js';
import { cpuSettings } from './settings.js';
import { swiglu, swigluBackward } from './swiglu.js';
import * as red from './reduce.js';

export const cpu = {
  name: 'cpu',
  kernels: {
    contiguous: ew.contiguous,
    cast: ew.cast,
    neg: ew.neg,
    abs: ew.abs,
    sign: ew.sign,
    exp: ew.exp,
    log: ew.log,
    sqrt: ew.sqrt,
    rsqrt: ew.rsqrt,
    sin: ew.sin,
    cos: ew.cos,
    tanh: ew.tanh,
    sigmoid: ew.sigmoid,
    relu: ew.relu,
    silu: ew.silu,
    gelu: ew.gelu,
    erf: ew.erfKernel,
    square: ew.square,
    reciprocal: ew.reciprocal,
    clamp: ew.clamp,
    add: ew.add,
    sub: ew.sub,
    mul: ew.mul,
    div: ew.div,
    pow: ew.pow,
    maximum: ew.maximum,
    minimum: ew.minimum,
    eq: ew.eq,
    ne: ew.ne,
    lt: ew.lt,
    le: ew.le,
    gt: ew.gt,
    ge: ew.ge,
    logicalAnd: ew.logicalAnd,
    logicalOr: ew.logicalOr,
    logicalNot: ew.logicalNot,
    where: ew.where,
    sum: red.sum,
    max: red.max,
    min: red.min,
    argmax: red.argmax,
    argmin: red.argmin,
    cumsum: red.cumsum,
    softmax: red.softmax,
    logSoftmax: red.logSoftmax,
    argsort: red.argsort,
    matmul,
    linear,
    rmsNorm,
    rmsNormBackward,
    rope,
    swiglu,
    swigluBackward,
    crossEntropy,
    crossEntropyBackward,
    adamw,
    moe,
    moeBackward,
    attention,
    attentionBackward,
    gather,
    scatterAdd,
    indexSelect,
    indexAdd,
    cat,
  },
  // The host array *is* the storage: uploading takes ownership (moving a large array into shared
  // memory once, so threaded kernels never copy it again); reading returns a copy so callers can
  // never mutate a tensor through the array they were given.
  upload: (data: TypedArray) => (data.length >= SHARED_MIN ? asShared(data) : data),
  read: async (buf) => buf.data.slice(),
  readSync: (buf) => buf.data.slice(),
  length: (data: TypedArray) => data.length,
  // Thread count and ts/wasm kernels (core's getNumThreads/setCpuKernels & co. go through these).
  settings: cpuSettings,
} satisfies Backend<TypedArray>;
