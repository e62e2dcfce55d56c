// Every kernel key has a GPU case, checked without a GPU: each key of the CPU table (the complete one)
// has a kernel in the GPU table, or a GPU test names it (and so runs it, on the CPU fallback, in every
// mode). "Names it": the key is a word of a string in test/kernels/gpu/*.test.ts — a test title, or a
// check's `name` or `labels`, which is how those tests label each output they compare with the CPU.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { KernelName } from '../../../core/index.js';
import { cpu } from '../../../kernels/cpu/index.js';
import type { Runtime } from '../../../kernels/gpu/runtime.js';
import { GPU_KERNELS } from '../../../kernels/gpu/table.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const CPU_KEYS = Object.keys(cpu.kernels) as KernelName[];

/** The GPU table's keys. Kernel groups only bind sources to the runtime, so a stand-in runtime lists them. */
const GPU_KEYS = new Set(Object.keys(GPU_KERNELS({} as Runtime)));

/** Every word of every string literal in the GPU test files (titles, check names, labels). */
function namedInGpuTests(): Map<string, string> {
  const words = new Map<string, string>();
  for (const file of readdirSync(HERE).filter((f) => f.endsWith('.test.ts') && f !== 'parity.test.ts')) {
    const source = readFileSync(join(HERE, file), 'utf8');
    for (const [, text] of source.matchAll(/'((?:[^'\\\n]|\\.)*)'|`((?:[^`\\]|\\.)*)`/g)) {
      for (const word of (text ?? '').split(/[^A-Za-z0-9_]+/)) if (word && !words.has(word)) words.set(word, file);
    }
  }
  return words;
}

/** The keys without a GPU case: neither a GPU kernel nor a GPU test that names them. */
function missingGpuCases(keys: readonly string[], gpuKeys: ReadonlySet<string>, named: ReadonlyMap<string, string>): string[] {
  return keys
    .filter((k) => !gpuKeys.has(k) && !named.has(k))
    .map((k) => `${k}: no GPU kernel, and no test in test/kernels/gpu names it`);
}

describe('kernel parity: every CPU key has a GPU case', () => {
  const named = namedInGpuTests();

  it('each key has a GPU kernel or a GPU test (the table is printed)', () => {
    console.log(
      '[gpu parity]',
      CPU_KEYS.map((k) => `${k}: ${GPU_KEYS.has(k) ? 'gpu kernel' : 'cpu fallback'}, tested in ${named.get(k) ?? '—'}`).join(
        '; ',
      ),
    );
    expect(missingGpuCases(CPU_KEYS, GPU_KEYS, named)).toEqual([]);
  });

  it('the GPU table names only keys of the CPU table', () => {
    const cpuKeys = new Set<string>(CPU_KEYS);
    expect([...GPU_KEYS].filter((k) => !cpuKeys.has(k))).toEqual([]);
  });

  it('fails for a key with neither a GPU kernel nor a GPU test (the check can fail)', () => {
    const noKernel = new Set([...GPU_KEYS].filter((k) => k !== 'rmsNorm'));
    const noTest = new Map([...named].filter(([w]) => w !== 'rmsNorm'));
    expect(missingGpuCases(['rmsNorm'], noKernel, named)).toEqual([]);
    expect(missingGpuCases(['rmsNorm'], GPU_KEYS, noTest)).toEqual([]);
    expect(missingGpuCases(['rmsNorm'], noKernel, noTest)).toEqual([
      'rmsNorm: no GPU kernel, and no test in test/kernels/gpu names it',
    ]);
  });
});
