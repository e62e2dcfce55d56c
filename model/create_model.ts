// createModel: the class a config's model_type names (model/auto.ts's map), built with random weights or
// empty placeholders for a loader. Its own file because the size check it runs first counts parameters
// (param_count.ts), which asks the map too: inside auto.ts that was an import circle.

import { architecture } from './auto.js';
import type { CausalLM, ModelOptions } from './causal_lm_base.js';
import type { ModelConfig } from './config.js';
import { checkConfigFits } from './io/model_memory.js';

/** The class HF's `architectures` names, built from a config. */
export function createModel(config: ModelConfig, opts: ModelOptions = {}): CausalLM {
  // Random weights are allocated as they are made: refuse a config that cannot fit before making any.
  if (opts.init !== 'empty')
    checkConfigFits(config, 'createModel', opts.dtype === 'float64' ? 8 : 4, undefined, `as ${opts.dtype ?? 'float32'}`);
  return architecture(config).create(config, opts);
}
