// What a benchmark suite provides: cases, each a closure to time plus the work it does per call.

import type { DType } from '../../core/index.js';

export interface SuiteOptions {
  dtype: Extract<DType, 'float32' | 'float64'>;
  /** Small sizes only: for checking that the suite runs, not for numbers. */
  quick: boolean;
}

export interface BenchCase {
  label: string;
  run: () => unknown;
  flops?: number;
  bytes?: number;
  /** UTF-8 bytes of text processed per call (tokenizer cases), reported as MB/s. */
  textBytes?: number;
}
