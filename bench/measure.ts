// Time one case with tinybench: warm up, then sample until both the time budget and the minimum
// sample count are met. Returns latency statistics in ms (the median is what the report quotes).

import { Bench } from 'tinybench';

export interface Timing {
  medianMs: number;
  madMs: number;
  minMs: number;
  samples: number;
}

export async function measure(
  name: string,
  fn: () => void,
  opts: { timeMs: number; minSamples: number; warmup?: boolean },
): Promise<Timing> {
  const bench = new Bench({
    time: opts.timeMs,
    iterations: opts.minSamples,
    warmup: opts.warmup ?? true,
    warmupIterations: 2,
    warmupTime: 50,
    throws: true,
  });
  bench.add(name, fn);
  await bench.run();
  const result = bench.tasks[0]!.result;
  if (result.state !== 'completed') throw new Error(`bench: ${name} did not complete (${result.state})`);
  const { latency } = result;
  return { medianMs: latency.p50, madMs: latency.mad, minMs: latency.min, samples: latency.samplesCount };
}
