// The playground page: open the GPU backend (gpu.js: WebGPU, WebGL 2, WebGL, else WebAssembly — `?mode=`
// picks one), load the checkpoint `llmjp4 serve` offers, and for the text typed show its tokens, the
// next-token probabilities, attention maps per layer and head, MoE routing per layer, and generate
// token by token. `window.llmjp4` exposes the same model to scripts (the browser test reads logits
// through it and compares them with the Node CLI's).

import { createGpuBackend, type GpuBackend } from '../../../kernels/gpu/index.js';
import type { GpuMode } from '../../../kernels/gpu/index.js';
import { architecture } from '../../../model/causal_lm.js';
import { generate } from '../../../model/generate.js';
import { forwardLogits, inspect, type Inspection } from './inspect.js';
import { loadCheckpoint, type Loaded } from './load.js';
import { renderAttention, renderHeadThumbnails, renderNext, renderRouting, renderTokens } from './views.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

const MODE_WORDS: Record<GpuMode, string> = {
  webgpu: 'WebGPU (the GPU, through WebGPU)',
  webgl2: 'WebGL 2 (the GPU, through WebGL 2 shaders)',
  webgl: 'WebGL 1 (the GPU, through WebGL shaders)',
  webasm: 'WebAssembly (on the CPU)',
  cpu: "JavaScript (the CPU, gpu.js's plain mode)",
  headlessgl: 'headless GL',
};

let current: Inspection | null = null;

function status(text: string, isError = false): void {
  const s = $('status');
  s.textContent = text;
  s.classList.toggle('error', isError);
}

async function openBackend(): Promise<GpuBackend> {
  const asked = (new URLSearchParams(location.search).get('mode') ?? 'auto') as GpuMode | 'auto';
  $<HTMLSelectElement>('mode').value = asked;
  const backend = await createGpuBackend({ mode: asked });
  $('backend').textContent = `gpu.js ${backend.mode}: ${MODE_WORDS[backend.mode]}`;
  $('backend').dataset.mode = backend.mode;
  // With `auto`, why the modes before this one did not open (no WebGPU adapter, no WebGL, ...).
  $('skipped').textContent = backend.skipped.map((why) => why.replace(/^gpu: /, '')).join('; ');
  return backend;
}

function showAttention(): void {
  if (!current) return;
  const layer = Number($<HTMLSelectElement>('layer').value);
  const head = Number($<HTMLSelectElement>('head').value);
  renderHeadThumbnails($('heads'), current.ids.length, current.attentions[layer]!, current.heads, head, (h) => {
    $<HTMLSelectElement>('head').value = String(h);
    showAttention();
  });
  renderAttention($('attention'), current.pieces, current.attentions[layer]!, head);
  $('attention-caption').textContent =
    `layer ${layer}, head ${head}: row = the token attending, column = the token attended to (each row sums to 1; nothing to the right of the diagonal — the mask is causal).`;
}

async function runInspect(m: Loaded): Promise<void> {
  const text = $<HTMLTextAreaElement>('text').value;
  status('running the model…');
  const t0 = performance.now();
  current = await inspect(m.model, m.tokenizer, text);
  renderTokens($('tokens'), current.ids, current.pieces, current.given);
  renderNext($('next'), current.next);
  showAttention();
  const c = m.model.config;
  renderRouting($('routing'), current, architecture(c).moe(c)?.num_experts ?? 0);
  status(`${current.ids.length} tokens, one forward pass in ${(performance.now() - t0).toFixed(0)} ms`);
  document.body.dataset.inspected = String(current.ids.length);
}

async function runGenerate(m: Loaded): Promise<void> {
  const prompt = m.tokenizer.encode($<HTMLTextAreaElement>('text').value);
  const maxNewTokens = Number($<HTMLInputElement>('max-new').value);
  const temperature = Number($<HTMLInputElement>('temperature').value);
  const out = $('generated');
  out.textContent = '';
  const ids: number[] = [];
  const t0 = performance.now();
  status('generating…');
  await generate(m.model, prompt, {
    maxNewTokens,
    temperature,
    topK: 50,
    seed: Number($<HTMLInputElement>('seed').value),
    onToken: async (id) => {
      ids.push(id);
      out.textContent = m.tokenizer.decode(ids);
      await new Promise((r) => requestAnimationFrame(r)); // let the browser paint this token
    },
  });
  const s = (performance.now() - t0) / 1000;
  status(`${ids.length} tokens generated in ${s.toFixed(1)} s (${(ids.length / s).toFixed(1)} tokens/s)`);
  document.body.dataset.generated = String(ids.length);
}

/** Run `fn` with the buttons disabled, reporting an error in the status line. */
async function busy(fn: () => Promise<void>): Promise<void> {
  const buttons = [$<HTMLButtonElement>('inspect'), $<HTMLButtonElement>('generate')];
  buttons.forEach((b) => (b.disabled = true));
  try {
    await fn();
  } catch (e) {
    status(String((e as Error).stack ?? e), true);
    console.error(e);
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

async function main(): Promise<void> {
  status('opening the GPU backend…');
  const backend = await openBackend();
  const m = await loadCheckpoint(backend, (what) => status(what));
  const c = m.model.config;
  const moe = architecture(c).moe(c);
  const experts = moe ? `, ${moe.num_experts} experts, top-${moe.num_experts_per_tok}` : '';
  $('model-info').textContent =
    `${architecture(c).name} from ${m.source}: ${c.num_hidden_layers} layers, hidden ${c.hidden_size}, ` +
    `${c.num_attention_heads} heads (${c.num_key_value_heads} kv), vocabulary ${c.vocab_size}${experts}`;
  $<HTMLSelectElement>('layer').replaceChildren(
    ...Array.from({ length: c.num_hidden_layers }, (_, i) => new Option(String(i), String(i))),
  );
  $<HTMLSelectElement>('head').replaceChildren(
    ...Array.from({ length: c.num_attention_heads }, (_, i) => new Option(String(i), String(i))),
  );
  $('routing-section').hidden = moe === null;
  $('layer').addEventListener('change', showAttention);
  $('head').addEventListener('change', showAttention);
  $('inspect').addEventListener('click', () => busy(() => runInspect(m)));
  $('generate').addEventListener('click', () => busy(() => runGenerate(m)));
  $('mode').addEventListener('change', () => (location.search = `?mode=${$<HTMLSelectElement>('mode').value}`));
  (window as unknown as { llmjp4: object }).llmjp4 = {
    mode: backend.mode,
    config: c,
    tokenize: (text: string) => m.tokenizer.encode(text),
    forward: async (ids: number[]) => Array.from(await forwardLogits(m.model, ids)),
  };
  await busy(() => runInspect(m));
  document.body.dataset.ready = 'true'; // after the first inspection: scripts (the test) start from a settled page
}

main().catch((e) => {
  status(`the playground could not start: ${(e as Error).message}`, true);
  console.error(e);
});
