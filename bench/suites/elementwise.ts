// Memory-bound ops through the public API: binary (same shape and broadcast), unary, a reduction and
// softmax. Bytes are the minimum traffic: every input read once and the output written once.

import { noGrad, randn } from '../../core/index.js';
import type { BenchCase, SuiteOptions } from './types.js';

export function elementwiseCases(opts: SuiteOptions): BenchCase[] {
  const sizes = opts.quick ? [1e3, 1e4] : [1e4, 1e5, 1e6];
  const bytesPer = opts.dtype === 'float64' ? 8 : 4;
  return sizes.flatMap((n) => {
    const cols = 1000;
    const rows = n / cols;
    const a = randn([rows, cols], { dtype: opts.dtype });
    const b = randn([rows, cols], { dtype: opts.dtype });
    const row = randn([cols], { dtype: opts.dtype });
    const size = n.toExponential(0).replace('+', '');
    return [
      { label: `add ${size}`, run: () => noGrad(() => a.add(b)), bytes: 3 * n * bytesPer },
      { label: `mul (broadcast row) ${size}`, run: () => noGrad(() => a.mul(row)), bytes: 2 * n * bytesPer },
      { label: `exp ${size}`, run: () => noGrad(() => a.exp()), bytes: 2 * n * bytesPer },
      { label: `sum(axis -1) ${size}`, run: () => noGrad(() => a.sum(-1)), bytes: n * bytesPer },
      { label: `softmax(axis -1) ${size}`, run: () => noGrad(() => a.softmax(-1)), bytes: 2 * n * bytesPer },
    ];
  });
}
