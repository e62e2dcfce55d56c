// The CPU kernels' thread pool in a browser: the twin of pool.ts that the playground's bundle uses
// instead. It runs every task on the calling thread (a browser page would need Web Workers and a
// cross-origin-isolated page for shared memory; the playground runs the model on the GPU backend, so
// the CPU kernels only do small host-side work). Same exports, same contract.

import { newControlBlock, runTasks, throwIfFailed, type Job } from './tasks.js';

const stats = { jobs: 0, tasks: 0, workerTasks: 0 };

export function poolStats(): Readonly<typeof stats> {
  return { ...stats };
}

export function getNumThreads(): number {
  return 1;
}

export function setNumThreads(n: number): void {
  if (n !== 1) throw new Error(`setNumThreads: the browser build runs single-threaded, got ${n}`);
}

export function parallelFor<A extends object>(job: Job<A>, args: A, count: number): void {
  const ctrl = newControlBlock();
  runTasks(job.run, args, count, ctrl, 0);
  stats.jobs++;
  stats.tasks += count;
  throwIfFailed(ctrl);
}
