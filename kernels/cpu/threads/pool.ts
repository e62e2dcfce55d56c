// A pool of worker threads that run a job's tasks in parallel with the calling thread. Workers start
// lazily on the first parallel job, are sized from the machine (LLMJP4_THREADS or setNumThreads
// overrides), and never keep the process alive. `parallelFor` is synchronous: tasks are claimed
// from a shared atomic counter, and the caller blocks (Atomics.wait) until every task is done —
// which is what lets ops stay synchronous while kernels use every core. A job says which module
// exports its task function (see tasks.ts); workers import it themselves, so this file knows no kernel.

import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DONE, newControlBlock, runTasks, throwIfFailed, type Job, type JobMessage } from './tasks.js';

let threads = initialThreads();
const workers: Worker[] = [];

function initialThreads(): number {
  const env = typeof process !== 'undefined' ? process.env.LLMJP4_THREADS : undefined;
  const n = env === undefined ? availableParallelism() : Number(env);
  if (!Number.isInteger(n) || n < 1) throw new Error(`LLMJP4_THREADS must be a positive integer, got '${env}'`);
  return n;
}

/** Counters since start: parallel jobs run, their tasks, and how many of those the workers ran. */
const stats = { jobs: 0, tasks: 0, workerTasks: 0 };

export function poolStats(): Readonly<typeof stats> {
  return { ...stats };
}

/** How many threads (the caller included) parallel kernels use. */
export function getNumThreads(): number {
  return threads;
}

/** Set the thread count (1 = single-threaded). Surplus workers are stopped. */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setNumThreads: expected a positive integer, got ${n}`);
  threads = n;
  while (workers.length > n - 1) void workers.pop()!.terminate();
}

/**
 * Run tasks 0..count-1 of `job` with `args` (numbers, and typed arrays over SharedArrayBuffer so that
 * workers see the same memory) on up to getNumThreads() threads. Returns when all tasks are done;
 * rethrows the first task error.
 *
 * It cannot deadlock on a worker that is still starting or importing the job's module: the caller
 * claims tasks too, and waits only for tasks some thread has claimed (a worker claims a task only
 * once it can run it). A worker that arrives after every task is claimed finds none and stops.
 */
export function parallelFor<A extends object>(job: Job<A>, args: A, count: number): void {
  const n = Math.min(threads, count);
  const ctrl = newControlBlock();
  if (n > 1) {
    startWorkers(n - 1);
    for (let w = 0; w < n - 1; w++) {
      const message: JobMessage = { url: job.url, name: job.name, args, count, ctrl, thread: w + 1 };
      workers[w]!.postMessage(message);
    }
  }
  const ranHere = runTasks(job.run, args, count, ctrl, 0);
  stats.jobs++;
  stats.tasks += count;
  stats.workerTasks += count - ranHere;
  for (let done = Atomics.load(ctrl, DONE); done < count; done = Atomics.load(ctrl, DONE)) Atomics.wait(ctrl, DONE, done);
  throwIfFailed(ctrl);
}

/**
 * Workers run kernels/cpu/threads/worker.{ts,js}. From source (tsx, vitest) the worker registers tsx
 * itself to load TypeScript; from the compiled dist/ it imports the .js directly.
 */
function startWorkers(count: number): void {
  if (workers.length >= count) return;
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url).href;
  const tsx = fromSource ? tsxEsmApi() : null;
  const code = [
    '(async () => {',
    tsx ? `  (await import(${JSON.stringify(tsx)})).register();` : '',
    `  await import(${JSON.stringify(entry)});`,
    "})().catch((e) => { console.error('llmjp4 worker failed to start:', e); process.exit(1); });",
  ].join('\n');
  while (workers.length < count) {
    const w = new Worker(code, { eval: true });
    w.unref();
    workers.push(w);
  }
}

/** The URL of tsx's ESM API (its CommonJS twin cannot register the loader from a worker). */
function tsxEsmApi(): string {
  const meta = import.meta as ImportMeta & { resolve?: (s: string) => string };
  if (typeof meta.resolve === 'function') return meta.resolve('tsx/esm/api');
  // Under a bundler-style runner (vitest) import.meta.resolve is absent: take the require-resolved
  // path and switch to the .mjs build that sits beside it.
  return pathToFileURL(
    createRequire(import.meta.url)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
}
