// Access to the Hugging Face golden fixtures (test/fixtures/golden): tensors by name and the JSON facts.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tensor, type Tensor } from '../../core/index.js';
import { SafetensorsFile } from '../../model/io/safetensors_read.js';
import type { CausalLM } from '../../model/causal_lm.js';

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

/** max|x − ref| / max|ref| (the fixtures' measure); `got` may live on any backend, `ref` on the CPU. */
export async function relErr(got: Tensor, ref: Tensor): Promise<number> {
  const [g, r] = [await got.data(), ref.dataSync()];
  if (g.length !== r.length) throw new Error(`relErr: ${g.length} values against ${r.length}`);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < r.length; i++) {
    err = Math.max(err, Math.abs(g[i]! - r[i]!));
    scale = Math.max(scale, Math.abs(r[i]!));
  }
  return err / scale;
}

/** The gradient of an HF-named parameter (experts are stored stacked: select expert e). */
export function gradOf(m: CausalLM, name: string): Tensor {
  const params = new Map(m.namedParameters());
  const expert = /^(.*\.experts)\.(\d+)\.(\w+)\.weight$/.exec(name);
  const p = expert ? params.get(`${expert[1]}.${expert[3]}`) : params.get(name);
  if (!p?.grad) throw new Error(`no gradient for ${name}`);
  return expert ? p.grad.select(0, Number(expert[2])) : p.grad;
}
