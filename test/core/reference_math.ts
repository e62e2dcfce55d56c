// Independent reference math for tests: erf by composite Simpson integration of its defining
// integral (no shared code with kernels/cpu/math.ts), GELU built on it, and a max-subtracted
// logSoftmax of one row (for the softmax and cross-entropy tests).

/** erf(x) = 2/√π ∫₀ˣ e^(−t²) dt, Simpson's rule with 4000 panels (error ~1e-13 on |x| ≤ 6). */
export function erfReference(x: number): number {
  const n = 4000;
  const h = x / n;
  let s = 1 + Math.exp(-x * x);
  for (let i = 1; i < n; i++) s += (i % 2 === 1 ? 4 : 2) * Math.exp(-(i * h) * (i * h));
  return (2 / Math.sqrt(Math.PI)) * (h / 3) * s;
}

export function geluReference(x: number, approximate: 'none' | 'tanh'): number {
  if (approximate === 'tanh') return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  return 0.5 * x * (1 + erfReference(x / Math.SQRT2));
}

/** log softmax of one row: x − (m + log Σ e^(x−m)) with m the row max, so exp never overflows. */
export function refLogSoftmax(line: number[]): number[] {
  const m = Math.max(...line);
  const lse = m + Math.log(line.reduce((a, v) => a + Math.exp(v - m), 0));
  return line.map((v) => v - lse);
}
