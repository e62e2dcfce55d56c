// A pool worker: receives jobs from parallelFor and claims tasks until the job is exhausted.

import { parentPort } from 'node:worker_threads';
import { runTasks, type TaskName } from './tasks.js';

interface JobMessage {
  job: TaskName;
  args: object;
  count: number;
  ctrl: Int32Array;
  thread: number;
}

parentPort!.on('message', (m: JobMessage) => runTasks(m.job, m.args, m.count, m.ctrl, m.thread));
