// A diagnostic job, to check the pool itself (the tests run it): it records which thread ran each task,
// optionally works for a while so that other threads get a chance to claim tasks, and fails on request.
// It is defined like every kernel's job, so a worker loads it the same way.

import { defineJob } from './tasks.js';

export interface ProbeArgs {
  /** ranOn[task] = the thread that ran it (over shared memory, so the caller sees the workers' writes). */
  ranOn: Int32Array;
  /** The task that throws, or -1 for none. */
  fail: number;
  spinMs?: number;
}

export function probeTask(args: ProbeArgs, task: number, thread: number): void {
  if (task === args.fail) throw new Error(`probe task ${task} failed on thread ${thread}`);
  const until = performance.now() + (args.spinMs ?? 0);
  while (performance.now() < until);
  args.ranOn[task] = thread;
}

export const probeJob = defineJob(import.meta.url, 'probeTask', probeTask);
