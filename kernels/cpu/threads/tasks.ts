// What a parallel job is, and the claim-and-run loop that the calling thread and every worker share.
// A job names its task function by the module that exports it and the export's name, so a worker can
// import that module itself: the pool never imports the kernels that use it (no back-arrow).

/** One task of a job: the job's args, the task index (0..count-1), and the thread running it (0 = the caller). */
export type TaskFn<A> = (args: A, task: number, thread: number) => void;

/**
 * A kind of parallel job: `run` for the calling thread, and where workers find the same function —
 * the URL of the module that exports it (that module's `import.meta.url`) and the export's name.
 */
export interface Job<A extends object> {
  readonly url: string;
  readonly name: string;
  readonly run: TaskFn<A>;
}

/**
 * Define a job beside its task function: `defineJob(import.meta.url, 'gemmTask', gemmTask)`, where
 * `gemmTask` is exported under that name (a worker runs `(await import(url))[name]`).
 */
export function defineJob<A extends object>(url: string, name: string, run: TaskFn<A>): Job<A> {
  return Object.freeze({ url, name, run });
}

/** What parallelFor posts to a worker for one job (typed arrays over SharedArrayBuffer arrive shared). */
export interface JobMessage {
  url: string;
  name: string;
  args: object;
  count: number;
  ctrl: Int32Array;
  thread: number;
}

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
export function runTasks<A extends object>(run: TaskFn<A>, args: A, count: number, ctrl: Int32Array, thread: number): number {
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
