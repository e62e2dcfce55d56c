// What a benchmark suite provides: cases, each a closure to time plus the work it does per call,
// optionally the simple reference for the same work (timed in the same run, for the ratio column).

import type { Backend, DType } from '../../core/index.js';
import type { CpuKernels } from '../../kernels/cpu/wasm/runtime.js';

export interface SuiteOptions {
  dtype: Extract<DType, 'float32' | 'float64'>;
  /** Small sizes only: for checking that the suite runs, not for numbers. */
  quick: boolean;
  /** Thread count for cases that do not fix their own. */
  threads: number;
  /** Set by `--backend gpu`: the suites that have GPU cases time them on this backend against the CPU. */
  gpu?: Backend<any>;
}

export interface BenchCase {
  label: string;
  run: () => unknown;
  flops?: number;
  bytes?: number;
  /** Tokens processed per call, for tokens/s. */
  tokens?: number;
  /** UTF-8 bytes of text processed per call (tokenizer cases), reported as MB/s. */
  textBytes?: number;
  /** Threads this case runs with (default: the suite option). */
  threads?: number;
  /** The float32 matmul/attention kernels this case runs with (default: the process's, 'wasm' where SIMD validates). */
  kernels?: CpuKernels;
  /**
   * The plain/unfused computation of the same result; "vs ref" is its median over this one's. Cases
   * that pass the same function share one measurement of it (made with the first such case's threads
   * and kernels), so pass a separate function where those matter to the reference.
   */
  reference?: () => unknown;
  /** Also measure the peak extra memory of one call, in a fresh process (see peak_memory.ts). */
  peakMemory?: boolean;
  /** Minimum samples (default 5); heavy cases take fewer. */
  minSamples?: number;
  /** Run warm-up calls before timing (default true); a case that takes minutes turns it off. */
  warmup?: boolean;
}
