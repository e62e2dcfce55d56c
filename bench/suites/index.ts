// The benchmark suites by name: `npm run bench -- <name> ...` runs a subset.

import { attentionCases } from './attention.js';
import { decodeCases } from './decode.js';
import { elementwiseCases } from './elementwise.js';
import { fusedCases } from './fused.js';
import { layerCases } from './layer.js';
import { longContextCases } from './long_context.js';
import { matmulCases } from './matmul.js';
import { moeCases } from './moe.js';
import { tokenizerCases } from './tokenizer.js';
import { trainStepCases } from './train_step.js';
import type { BenchCase, SuiteOptions } from './types.js';

export const SUITES: Record<string, (o: SuiteOptions) => BenchCase[]> = {
  matmul: matmulCases,
  attention: attentionCases,
  fused: fusedCases,
  layer: layerCases,
  moe: moeCases,
  elementwise: elementwiseCases,
  tokenizer: tokenizerCases,
  train_step: trainStepCases,
  long_context: longContextCases,
  decode: decodeCases,
};
