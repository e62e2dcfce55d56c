// A pool worker: receives jobs from parallelFor and claims tasks until the job is exhausted. The first
// job of a kind imports the module that exports its task function (by the URL the job carries); later
// jobs find the function cached and run at once.

import { parentPort } from 'node:worker_threads';
import { runTasks, type JobMessage, type TaskFn } from './tasks.js';

type AnyTask = TaskFn<object>;

/** Task functions by `url#name`: the loaded function, or the import still on its way. */
const loaded = new Map<string, AnyTask>();
const loading = new Map<string, Promise<AnyTask>>();

async function load(url: string, name: string): Promise<AnyTask> {
  const mod = (await import(url)) as Record<string, unknown>;
  const fn = mod[name];
  if (typeof fn !== 'function') throw new Error(`parallel job: ${url} exports no function named '${name}'`);
  return fn as AnyTask;
}

/**
 * Run the job once its function is here. A module that fails to load fails the job: the worker claims
 * tasks with a function that rethrows the import error, so the caller's parallelFor reports it instead
 * of the worker dying quietly. (The caller also claims tasks, so a slow import never holds a job up.)
 */
function onJob(m: JobMessage): void {
  const key = `${m.url}#${m.name}`;
  const fn = loaded.get(key);
  if (fn) {
    runTasks(fn, m.args, m.count, m.ctrl, m.thread);
    return;
  }
  let pending = loading.get(key);
  if (!pending) {
    pending = load(m.url, m.name);
    loading.set(key, pending);
    // Cache on success (this callback runs before the job's own, registered below); retry after a failure.
    pending
      .then(
        (f) => loaded.set(key, f),
        () => undefined,
      )
      .finally(() => loading.delete(key));
  }
  pending.then(
    (f) => runTasks(f, m.args, m.count, m.ctrl, m.thread),
    (e: unknown) => {
      const fail: AnyTask = () => {
        throw new Error(`worker ${m.thread} could not load ${m.name} from ${m.url}: ${(e as Error)?.message ?? e}`);
      };
      runTasks(fail, m.args, m.count, m.ctrl, m.thread);
    },
  );
}

parentPort!.on('message', onJob);
