// The `--backend cpu|gpu` flag every computing command takes, parsed in one place: it names the
// backend new tensors (and so a loaded model) live on. Only `cpu` is in this build; `gpu` is a known
// name whose backend is wired in where it lands, and anything else is an error naming the choices.

import { cpu, setBackend, type Backend } from '../../core/index.js';

export const BACKEND_NAMES = ['cpu', 'gpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** The parseArgs entry: `...backendOption` inside a command's options. */
export const backendOption = { backend: { type: 'string', default: 'cpu' } } as const;

export const backendHelp = '--backend cpu|gpu';

/** The backend a `--backend` value names; throws a clear error for an unknown or unavailable one. */
export function parseBackend(value: string | undefined): Backend<any> {
  const name = (value ?? 'cpu').trim().toLowerCase();
  if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
    throw new Error(`--backend must be one of ${BACKEND_NAMES.join(', ')}; got '${value}'`);
  }
  if (name === 'gpu') throw new Error("--backend gpu: the gpu backend is not available in this build; use --backend cpu");
  return cpu;
}

/** Parse `--backend` and make it the backend new tensors are created on; returns its name. */
export function useBackend(value: string | undefined): BackendName {
  const backend = parseBackend(value);
  setBackend(backend);
  return backend.name as BackendName;
}
