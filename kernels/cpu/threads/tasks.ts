// The table of parallel tasks, shared by the calling thread and the workers: a job name maps to a
// function of (args, task index, thread index). `runTasks` is the claim-and-run loop every thread uses.

import { attentionForwardTask } from '../attention.js';
import { attentionDkDvTask, attentionDqTask } from '../attention_backward.js';
import { gemmTask, gemvTask } from '../gemm.js';
import { wasmGemmGroupTask } from '../gemm_group.js';
import { moeCombineTask, moeGatherTask, moeRowGradTask, moeSwigluGradTask, moeSwigluTask } from '../moe_rows.js';
import { wasmAttentionForwardTask } from '../wasm/attention.js';
import { wasmAttentionDkDvTask, wasmAttentionDqTask } from '../wasm/attention_backward.js';
import { wasmGemmTask } from '../wasm/gemm.js';

/**
 * A diagnostic task, to check the pool itself: records which thread ran each task, optionally works
 * for `spinMs` (so other threads get a chance to claim tasks), and fails on request.
 */
function probeTask(args: { ranOn: Int32Array; fail: number; spinMs?: number }, task: number, thread: number): void {
  if (task === args.fail) throw new Error(`probe task ${task} failed on thread ${thread}`);
  const until = performance.now() + (args.spinMs ?? 0);
  while (performance.now() < until);
  args.ranOn[task] = thread;
}

const TASKS = {
  probe: probeTask,
  gemm: gemmTask,
  gemv: gemvTask,
  wasmGemm: wasmGemmTask,
  wasmGemmGroup: wasmGemmGroupTask,
  moeGather: moeGatherTask,
  moeSwiglu: moeSwigluTask,
  moeCombine: moeCombineTask,
  moeRowGrad: moeRowGradTask,
  moeSwigluGrad: moeSwigluGradTask,
  attentionForward: attentionForwardTask,
  attentionDkDv: attentionDkDvTask,
  attentionDq: attentionDqTask,
  wasmAttentionForward: wasmAttentionForwardTask,
  wasmAttentionDkDv: wasmAttentionDkDvTask,
  wasmAttentionDq: wasmAttentionDqTask,
} satisfies Record<string, (args: any, task: number, thread: number) => void>;

export type TaskName = keyof typeof TASKS;

// A job's control block, in shared memory: [next task, tasks done, failed flag, error length], then the error text.
const NEXT = 0;
export const DONE = 1;
export const FAILED = 2;
export const ERR_LEN = 3;
export const CTRL_WORDS = 4;
const ERR_BYTES = 2048;

export function newControlBlock(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(CTRL_WORDS * 4 + ERR_BYTES));
}

/**
 * Claim tasks from the shared counter until none are left; record the first failure for the caller.
 * Returns how many tasks this thread ran.
 */
export function runTasks(job: TaskName, args: object, count: number, ctrl: Int32Array, thread: number): number {
  const run = TASKS[job] as (args: object, task: number, thread: number) => void;
  for (let ran = 0; ; ran++) {
    const t = Atomics.add(ctrl, NEXT, 1);
    if (t >= count) return ran;
    try {
      if (Atomics.load(ctrl, FAILED) === 0) run(args, t, thread);
    } catch (e) {
      if (Atomics.compareExchange(ctrl, FAILED, 0, 1) === 0) {
        const msg = new TextEncoder().encode(String((e as Error)?.message ?? e)).slice(0, ERR_BYTES);
        new Uint8Array(ctrl.buffer, CTRL_WORDS * 4, ERR_BYTES).set(msg);
        Atomics.store(ctrl, ERR_LEN, msg.length);
      }
    } finally {
      Atomics.add(ctrl, DONE, 1);
      Atomics.notify(ctrl, DONE);
    }
  }
}

/** After a job: rethrow the first task error recorded in its control block, if any. */
export function throwIfFailed(ctrl: Int32Array): void {
  if (Atomics.load(ctrl, FAILED) === 0) return;
  const bytes = new Uint8Array(ctrl.buffer, CTRL_WORDS * 4, Atomics.load(ctrl, ERR_LEN));
  throw new Error(new TextDecoder().decode(bytes.slice()));
}
