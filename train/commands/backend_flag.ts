// `--backend cpu|gpu` on every command that computes: one option spec and one function that runs a
// command's body on the chosen backend.

import { cpu, getBackend, setBackend, type Backend } from '../../core/index.js';

export const backendOption = { backend: { type: 'string' as const, default: process.env.LLMJP4_BACKEND ?? 'cpu' } };

export async function useBackend<T>(name: string | undefined, body: () => Promise<T>): Promise<T> {
  const backend = await resolve(name ?? 'cpu');
  const prev = getBackend();
  setBackend(backend);
  try {
    return await body();
  } finally {
    setBackend(prev);
  }
}

async function resolve(name: string): Promise<Backend<any>> {
  switch (name) {
    case 'cpu':
      return cpu;
    case 'gpu':
      throw new Error('--backend gpu: the gpu.js backend is not part of this build yet');
    default:
      throw new Error(`--backend must be cpu or gpu, got '${name}'`);
  }
}
