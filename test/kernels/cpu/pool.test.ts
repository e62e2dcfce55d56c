// The worker pool: tasks run once each across threads, a task's error reaches the caller, the
// thread count is configurable, and a process using threads still exits on its own.
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { allocShared } from '../../../kernels/cpu/shared.js';
import * as browserPool from '../../../kernels/cpu/threads/pool.browser.js';
import { getNumThreads, parallelFor, setNumThreads } from '../../../kernels/cpu/threads/pool.js';

const saved = getNumThreads();
afterAll(() => setNumThreads(saved));

describe('thread pool', () => {
  it('runs every task exactly once, on the workers too', () => {
    setNumThreads(2);
    const seen = new Set<number>();
    // A freshly started worker takes a moment to load; jobs before that run on the caller alone.
    const deadline = Date.now() + 15_000;
    while (!seen.has(1) && Date.now() < deadline) {
      const ranOn = allocShared('int32', 400).fill(-1);
      parallelFor('probe', { ranOn, fail: -1, spinMs: 0.05 }, 400);
      expect(ranOn.every((t) => t === 0 || t === 1)).toBe(true);
      ranOn.forEach((t) => seen.add(t));
    }
    expect([...seen].sort()).toEqual([0, 1]);
  });

  it('rethrows a task error in the caller, whichever thread ran it', () => {
    setNumThreads(2);
    for (let i = 0; i < 5; i++) {
      expect(() => parallelFor('probe', { ranOn: allocShared('int32', 64), fail: 37 }, 64)).toThrow(
        /probe task 37 failed on thread [01]/,
      );
    }
  });

  it('single-threaded runs everything on the caller; bad counts are refused', () => {
    setNumThreads(1);
    const ranOn = allocShared('int32', 10).fill(-1);
    parallelFor('probe', { ranOn, fail: -1 }, 10);
    expect(Array.from(ranOn)).toEqual(new Array(10).fill(0));
    expect(() => setNumThreads(0)).toThrow('setNumThreads: expected a positive integer, got 0');
  });

  it('never keeps the process alive, and LLMJP4_THREADS sets the count', () => {
    const script = [
      "import { randn, noGrad } from './core/index.js';",
      "import { getNumThreads, poolStats } from './kernels/cpu/threads/pool.js';",
      'const a = randn([300, 300]);',
      'for (let i = 0; i < 5; i++) noGrad(() => a.matmul(a));',
      'console.log(JSON.stringify({ threads: getNumThreads(), jobs: poolStats().jobs }));',
    ].join('\n');
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, LLMJP4_THREADS: '2' },
      timeout: 60_000,
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ threads: 2, jobs: 5 });
    expect(Date.now() - t0).toBeLessThan(30_000);
  });
});

describe('thread pool, browser twin (pool.browser.ts)', () => {
  it('runs every task once on the caller, rethrows a task error, and stays single-threaded', () => {
    const ranOn = allocShared('int32', 50).fill(-1);
    browserPool.parallelFor('probe', { ranOn, fail: -1 }, 50);
    expect(Array.from(ranOn)).toEqual(new Array(50).fill(0));
    expect(() => browserPool.parallelFor('probe', { ranOn: allocShared('int32', 20), fail: 7 }, 20)).toThrow(
      /probe task 7 failed on thread 0/,
    );
    expect(browserPool.getNumThreads()).toBe(1);
    expect(() => browserPool.setNumThreads(2)).toThrow(/single-threaded/);
    expect(browserPool.poolStats().jobs).toBe(2);
  });
});
