// `npm run bench [-- suite ...] [--dtype float32|float64] [--time MS] [--quick] [--out DIR]`
// Runs the named suites (all by default), prints a table per suite, writes bench/results/<suite>.json.

import { parseArgs } from 'node:util';
import { formatTable, machine, writeResults, type Row } from './report.js';
import { measure } from './measure.js';
import { elementwiseCases } from './suites/elementwise.js';
import { matmulCases } from './suites/matmul.js';
import { tokenizerCases } from './suites/tokenizer.js';
import type { BenchCase, SuiteOptions } from './suites/types.js';

export const SUITES: Record<string, (o: SuiteOptions) => BenchCase[]> = {
  matmul: matmulCases,
  elementwise: elementwiseCases,
  tokenizer: tokenizerCases,
};

export async function runBench(argv: string[]): Promise<Record<string, Row[]>> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      dtype: { type: 'string', default: 'float32' },
      time: { type: 'string', default: '500' },
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
    },
  });
  const dtype = values.dtype;
  if (dtype !== 'float32' && dtype !== 'float64') throw new Error(`bench: --dtype must be float32 or float64, got ${dtype}`);
  const unknown = positionals.filter((s) => !(s in SUITES));
  if (unknown.length > 0) throw new Error(`bench: unknown suite(s) ${unknown.join(', ')}; available: ${Object.keys(SUITES).join(', ')}`);
  const names = positionals.length > 0 ? positionals : Object.keys(SUITES);
  const opts: SuiteOptions = { dtype, quick: values.quick };
  const timeMs = Number(values.time);
  const m = machine();
  console.log(`machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, node ${m.node}`);
  const all: Record<string, Row[]> = {};
  for (const suite of names) {
    const rows: Row[] = [];
    for (const c of SUITES[suite]!(opts)) {
      const t = await measure(c.label, c.run, { timeMs, minSamples: opts.quick ? 2 : 5 });
      rows.push({ label: c.label, dtype, ...t, flops: c.flops, bytes: c.bytes, textBytes: c.textBytes });
    }
    console.log(`\n${formatTable(suite, rows)}`);
    const path = writeResults(suite, rows, { dtype, timeMs, quick: opts.quick }, values.out);
    console.log(`wrote ${path}`);
    all[suite] = rows;
  }
  return all;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runBench(process.argv.slice(2)).catch((e: Error) => {
    console.error(e.message);
    process.exit(1);
  });
}
