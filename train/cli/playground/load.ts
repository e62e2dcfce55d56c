// Loading a checkpoint into the page: the files `llmjp4 serve` exposes under /model/ (config.json, the
// weights — one model.safetensors or the shards its index names — and tokenizer.model) are fetched,
// and the model is built from them on the backend the page chose (fromPretrainedBytes: the same strict
// loader as fromPretrained, minus the file system).

import { withBackend, type Backend } from '../../../core/index.js';
import type { CausalLM } from '../../../model/causal_lm.js';
import { fromPretrainedBytes } from '../../../model/pretrained.js';
import { Tokenizer } from '../../../model/tokenizer/tokenizer.js';

async function fetchOk(url: string): Promise<Response> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status} ${r.statusText}`);
  return r;
}

const bytes = async (url: string) => new Uint8Array(await (await fetchOk(url)).arrayBuffer());

export interface Loaded {
  model: CausalLM;
  tokenizer: Tokenizer;
  /** What the server says about the checkpoint: its folder. */
  source: string;
}

export async function loadCheckpoint(backend: Backend<any>, onProgress: (what: string) => void): Promise<Loaded> {
  onProgress('fetching config.json');
  const info = (await (await fetchOk('model/info.json')).json()) as { dir: string; weights: string[] };
  const config = (await (await fetchOk('model/config.json')).json()) as Record<string, unknown>;
  const files: { name: string; bytes: Uint8Array }[] = [];
  for (const name of info.weights) {
    onProgress(`fetching ${name}`);
    files.push({ name, bytes: await bytes(`model/${name}`) });
  }
  onProgress('fetching tokenizer.model');
  const tokenizer = Tokenizer.fromBytes(await bytes('model/tokenizer.model'), 'tokenizer.model');
  onProgress('building the model');
  const model = withBackend(backend, () => fromPretrainedBytes(config, files));
  return { model, tokenizer, source: info.dir };
}
