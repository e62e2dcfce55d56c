// Access to the Hugging Face golden fixtures (test/fixtures/golden): tensors by name and the JSON facts.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tensor, type Tensor } from '../../core/index.js';
import { SafetensorsFile } from '../../model/io/safetensors_read.js';

export const GOLDEN = resolve(import.meta.dirname, '..', 'fixtures', 'golden', 'models');

export interface Golden {
  json: Record<string, any>;
  config: Record<string, any>;
  /** A tensor from golden.safetensors (F64/F32 as stored, I64 as int32). */
  t(name: string): Tensor;
  /** A parameter from model.safetensors. */
  param(name: string): Tensor;
}

export function golden(variant: string): Golden {
  const dir = join(GOLDEN, variant);
  const g = SafetensorsFile.open(join(dir, 'golden.safetensors'));
  const m = SafetensorsFile.open(join(dir, 'model.safetensors'));
  const load = (f: SafetensorsFile, name: string) => {
    const { data, shape, dtype } = f.read(name);
    return tensor(data, { shape, dtype });
  };
  return {
    json: JSON.parse(readFileSync(join(dir, 'golden.json'), 'utf8')),
    config: JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')),
    t: (name) => load(g, name),
    param: (name) => load(m, name),
  };
}
