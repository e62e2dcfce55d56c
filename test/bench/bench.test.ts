// The benchmark harness runs and writes a well-formed report. (Speed is measured by `npm run bench`,
// never asserted in a test: this only checks the harness itself, with tiny sizes.)
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatTable } from '../../bench/report.js';
import { runBench } from '../../bench/run.js';

describe('bench harness', () => {
  it('runs every suite in quick mode and writes results JSON with rates', async () => {
    const out = mkdtempSync(join(tmpdir(), 'llmjp4-bench-'));
    const results = await runBench(['--quick', '--time', '5', '--out', out]);
    expect(Object.keys(results).sort()).toEqual([
      'attention',
      'decode',
      'elementwise',
      'fused',
      'layer',
      'long_context',
      'matmul',
      'moe',
      'tokenizer',
      'train_step',
    ]);
    const json = JSON.parse(readFileSync(join(out, 'matmul.json'), 'utf8'));
    expect(json.machine.cores).toBeGreaterThan(0);
    for (const row of json.rows) {
      expect(row.medianMs).toBeGreaterThan(0);
      expect(row.gflops).toBeGreaterThan(0);
      expect(row.speedup).toBeGreaterThan(0); // every matmul case is timed against the plain loop
    }
    const attention = JSON.parse(readFileSync(join(out, 'attention.json'), 'utf8'));
    // Peak memory is recorded (Linux) as a whole number of bytes, clamped at 0: freed pages may be reused, so no
    // lower bound holds, and what is checked is that every row recorded one (a ">= 0" passed for any number).
    expect(attention.rows.length).toBeGreaterThan(0);
    for (const row of attention.rows) expect(row.peakBytes, row.label).toSatisfy(Number.isInteger);
    expect(results.layer![0]!.tokens).toBeGreaterThan(0);
    expect(results.train_step!.map((r) => r.tokens)).toEqual([8, 8]);
    const long = results.long_context!;
    expect(long.map((r) => r.label)).toEqual([
      expect.stringMatching(/^forward T=256 /),
      expect.stringMatching(/^prefill /),
      expect.stringMatching(/^decode /),
    ]);
    expect(long[0]!.peakBytes).toSatisfy(Number.isInteger); // time and peak memory of the long forward
  });

  it('runs the GPU cases with --backend gpu, each against the CPU backend in the same run', async () => {
    const out = mkdtempSync(join(tmpdir(), 'llmjp4-bench-gpu-'));
    const results = await runBench([
      'matmul',
      '--backend',
      'gpu',
      '--gpu-mode',
      'webasm',
      '--quick',
      '--time',
      '5',
      '--out',
      out,
    ]);
    const json = JSON.parse(readFileSync(join(out, 'matmul.gpu-webasm.json'), 'utf8'));
    expect(json.options.backend).toBe('gpu:webasm');
    for (const row of results.matmul!) {
      expect(row.label).toMatch(/\[gpu:webasm\]$/);
      expect(row.speedup).toBeGreaterThan(0);
    }
    await expect(runBench(['tokenizer', '--backend', 'gpu'])).rejects.toThrow(
      'bench: suite(s) tokenizer have no GPU cases; with --backend gpu choose from matmul, attention, layer',
    );
  });

  it('formats a table with only the columns some row fills', () => {
    const t = formatTable('x', [{ label: 'a', dtype: 'float32', medianMs: 1, madMs: 0.1, minMs: 1, samples: 3, bytes: 4e6 }]);
    expect(t).toContain('GB/s');
    expect(t).not.toContain('GFLOP/s');
    expect(t.split('\n')[3]).toMatch(/^a\s+float32\s+1\.000\s+0\.10\s+3\s+4\.00$/);
  });

  it('rejects unknown suites and dtypes', async () => {
    await expect(runBench(['nope'])).rejects.toThrow(
      'bench: unknown suite(s) nope; available: matmul, attention, fused, layer, moe, elementwise, tokenizer, train_step, long_context',
    );
    await expect(runBench(['--threads', '0'])).rejects.toThrow('bench: --threads must be a positive integer, got 0');
    await expect(runBench(['--dtype', 'int32'])).rejects.toThrow('bench: --dtype must be float32 or float64, got int32');
  });
});
