// The worker pool: tasks run once each across threads, a task's error reaches the caller, the thread
// count is configurable, a process using threads still exits on its own, and workers find every
// kernel's task function by the module URL and export name its job carries (the pool imports no kernel).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cpu,
  getCpuKernels,
  getNumThreads as coreGetNumThreads,
  noGrad,
  randn,
  setNumThreads as coreSet,
} from '../../../core/index.js';
import { allocShared } from '../../../kernels/cpu/shared.js';
import * as browserPool from '../../../kernels/cpu/threads/pool.browser.js';
import { getNumThreads, parallelFor, poolStats, setNumThreads } from '../../../kernels/cpu/threads/pool.js';
import { probeJob, probeTask } from '../../../kernels/cpu/threads/probe.js';
import { defineJob, type Job } from '../../../kernels/cpu/threads/tasks.js';

const saved = getNumThreads();
afterAll(() => setNumThreads(saved));

const KERNELS_CPU = fileURLToPath(new URL('../../../kernels/cpu/', import.meta.url));
const WORKER_ENTRY = join(KERNELS_CPU, 'threads', 'worker.ts');

/** Repeat `job` until `done` says so (a freshly started worker takes a moment to load), or fail after 30 s. */
function until(done: () => boolean, job: () => void): void {
  const deadline = Date.now() + 30_000;
  while (!done() && Date.now() < deadline) job();
  expect(done()).toBe(true);
}

describe('thread pool', () => {
  it('runs every task exactly once, on the workers too', () => {
    setNumThreads(2);
    const seen = new Set<number>();
    const before = poolStats().workerTasks;
    until(
      () => seen.has(1),
      () => {
        const ranOn = allocShared('int32', 400).fill(-1);
        parallelFor(probeJob, { ranOn, fail: -1, spinMs: 0.05 }, 400);
        expect(ranOn.every((t) => t === 0 || t === 1)).toBe(true);
        ranOn.forEach((t) => seen.add(t));
      },
    );
    expect([...seen].sort()).toEqual([0, 1]);
    expect(poolStats().workerTasks).toBeGreaterThan(before);
  });

  it('rethrows a task error in the caller, whichever thread ran it', () => {
    setNumThreads(2);
    for (let i = 0; i < 5; i++) {
      expect(() => parallelFor(probeJob, { ranOn: allocShared('int32', 64), fail: 37 }, 64)).toThrow(
        /probe task 37 failed on thread [01]/,
      );
    }
  });

  it('a job whose module does not export its task fails in the caller, naming it', () => {
    setNumThreads(2);
    const wrong = defineJob(probeJob.url, 'noSuchTask', probeTask);
    let error = '';
    until(
      () => error !== '',
      () => {
        try {
          parallelFor(wrong, { ranOn: allocShared('int32', 400), fail: -1, spinMs: 0.05 }, 400);
        } catch (e) {
          error = (e as Error).message;
        }
      },
    );
    expect(error).toMatch(/worker 1 could not load noSuchTask from .*probe\.ts: .*exports no function named 'noSuchTask'/);
  });

  it('a real kernel (matmul) runs tasks on the workers', () => {
    setNumThreads(2);
    const a = randn([256, 256]);
    const before = poolStats().workerTasks;
    until(
      () => poolStats().workerTasks > before,
      () => noGrad(() => a.matmul(a)),
    );
  });

  it('single-threaded runs everything on the caller; bad counts are refused', () => {
    setNumThreads(1);
    const ranOn = allocShared('int32', 10).fill(-1);
    parallelFor(probeJob, { ranOn, fail: -1 }, 10);
    expect(Array.from(ranOn)).toEqual(new Array(10).fill(0));
    expect(() => setNumThreads(0)).toThrow('setNumThreads: expected a positive integer, got 0');
  });

  it('never keeps the process alive, LLMJP4_THREADS sets the count, and workers load kernels through tsx', () => {
    const script = [
      "import { randn, noGrad } from './core/index.js';",
      "import { getNumThreads, poolStats } from './kernels/cpu/threads/pool.js';",
      'const a = randn([300, 300]);',
      'for (let i = 0; i < 5; i++) noGrad(() => a.matmul(a));',
      'const deadline = Date.now() + 20000;',
      'while (poolStats().workerTasks === 0 && Date.now() < deadline) noGrad(() => a.matmul(a));',
      'console.log(JSON.stringify({ threads: getNumThreads(), workers: poolStats().workerTasks > 0 }));',
    ].join('\n');
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, LLMJP4_THREADS: '2' },
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ threads: 2, workers: true });
    expect(Date.now() - t0).toBeLessThan(40_000);
  });
});

describe('jobs: every kernel names its task so a worker can find it', () => {
  /** kernels/cpu/**.ts, without the browser twins, declaration files, and the worker's entry (it only runs in a worker). */
  function kernelFiles(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const path = join(dir, e.name);
      if (e.isDirectory()) return kernelFiles(path);
      const skip = e.name.endsWith('.browser.ts') || e.name.endsWith('.d.ts') || path === WORKER_ENTRY;
      return e.name.endsWith('.ts') && !skip ? [path] : [];
    });
  }

  const isJob = (v: unknown): v is Job<object> =>
    typeof v === 'object' && v !== null && 'url' in v && 'name' in v && typeof (v as Job<object>).run === 'function';

  it("each job's URL is its own module, which exports the job's function under the job's name", async () => {
    const names: string[] = [];
    for (const file of kernelFiles(KERNELS_CPU)) {
      const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      for (const [exported, job] of Object.entries(mod)) {
        if (!isJob(job)) continue;
        expect(job.url, exported).toBe(pathToFileURL(file).href);
        expect(mod[job.name], `${exported} names '${job.name}'`).toBe(job.run);
        names.push(job.name);
      }
    }
    for (const name of ['probeTask', 'gemmTask', 'gemvTask', 'wasmGemmTask', 'wasmGemmGroupTask', 'moeCombineTask'])
      expect(names).toContain(name);
    for (const name of ['attentionForwardTask', 'attentionDqTask', 'wasmAttentionForwardTask', 'wasmAttentionDkDvTask'])
      expect(names).toContain(name);
  });
});

describe('CPU backend settings (cpu.settings, and core getNumThreads/setNumThreads over them)', () => {
  it('threads and kernels read and write the pool and the runtime, checked', () => {
    coreSet(3);
    expect(cpu.settings.threads).toBe(3);
    expect(getNumThreads()).toBe(3);
    cpu.settings.threads = 1;
    expect(coreGetNumThreads()).toBe(1);
    expect(() => (cpu.settings.threads = 0)).toThrow('setNumThreads: expected a positive integer, got 0');
    expect(cpu.settings.kernels).toBe(getCpuKernels());
    expect(() => (cpu.settings.kernels = 'simd' as never)).toThrow("setCpuKernels: expected 'ts' or 'wasm', got 'simd'");
  });
});

describe('thread pool, browser twin (pool.browser.ts)', () => {
  it('runs every task once on the caller, rethrows a task error, and stays single-threaded', () => {
    const ranOn = allocShared('int32', 50).fill(-1);
    browserPool.parallelFor(probeJob, { ranOn, fail: -1 }, 50);
    expect(Array.from(ranOn)).toEqual(new Array(50).fill(0));
    expect(() => browserPool.parallelFor(probeJob, { ranOn: allocShared('int32', 20), fail: 7 }, 20)).toThrow(
      /probe task 7 failed on thread 0/,
    );
    expect(browserPool.getNumThreads()).toBe(1);
    expect(() => browserPool.setNumThreads(2)).toThrow(/single-threaded/);
    expect(browserPool.poolStats().jobs).toBe(2);
  });
});
