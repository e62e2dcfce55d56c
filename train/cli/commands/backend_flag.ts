// `--backend cpu|gpu` and `--gpu-mode webgpu|headlessgl|webasm|cpu|auto` on every command that computes:
// one option spec and one function that runs a command's body on the chosen backend (core's
// selectBackend; LLMJP4_BACKEND / LLMJP4_GPU_MODE give the defaults). On the GPU it says on stderr
// which mode actually runs — `auto` may skip modes — and releases the backend when the body is done.
// Bodies read values with `await t.data()` / `item()`: webgpu reads only asynchronously.

import { getBackend, selectBackend, setBackend, type Backend } from '../../../core/index.js';

export const backendOption = {
  backend: { type: 'string' as const, default: process.env.LLMJP4_BACKEND ?? 'cpu' },
  'gpu-mode': { type: 'string' as const },
};

export interface BackendChoice {
  backend?: string;
  /** Only with backend gpu; unset: LLMJP4_GPU_MODE, else auto. */
  'gpu-mode'?: string;
}

export async function useBackend<T>(choice: BackendChoice, body: () => Promise<T>): Promise<T> {
  const name = choice.backend ?? 'cpu';
  if (name !== 'cpu' && name !== 'gpu') throw new Error(`--backend must be cpu or gpu, got '${name}'`);
  if (name === 'cpu' && choice['gpu-mode'] !== undefined) throw new Error('--gpu-mode applies only to --backend gpu');
  const backend = await selectBackend({ backend: name, mode: choice['gpu-mode'] });
  if (name === 'gpu') report(backend);
  const prev = getBackend();
  setBackend(backend);
  try {
    return await body();
  } finally {
    setBackend(prev);
    (backend as { destroy?: () => void }).destroy?.();
  }
}

/** "llmjp4: backend gpu:webasm" on stderr, with the modes `auto` skipped and why. */
function report(backend: Backend<any>): void {
  const skipped = (backend as { skipped?: readonly string[] }).skipped ?? [];
  console.error(`llmjp4: backend ${backend.name}${skipped.length > 0 ? ` (auto skipped: ${skipped.join('; ')})` : ''}`);
}
