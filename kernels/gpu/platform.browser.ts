// The GPU backend in a browser: the twin of platform.ts that the playground's bundle uses instead
// (train/cli/playground/bundle.ts swaps every `X.ts` that has an `X.browser.ts` beside it). Here gpu.js is
// its browser build (ES import), webgpu is the browser's own navigator.gpu, and WebGL replaces
// headless-gl. `auto` tries WebGPU, then WebGL 2, WebGL 1, then WebAssembly.

import type { GpuJs, GpuMode } from './runtime.js';

export const GPU_MODES: readonly GpuMode[] = ['webgpu', 'webgl2', 'webgl', 'webasm', 'cpu'];
export const AUTO_ORDER: readonly GpuMode[] = ['webgpu', 'webgl2', 'webgl', 'webasm'];
export const PROBE_ORDER: readonly GpuMode[] = GPU_MODES;

/** gpu.js's browser build exports the GPU class itself (and sets window.GPU). */
export async function loadGpuJs(): Promise<GpuJs> {
  const mod = (await import('gpu.js')) as unknown as { default?: unknown; GPU?: unknown };
  const GPU = (mod.GPU ?? (mod.default as { GPU?: unknown } | undefined)?.GPU ?? mod.default) as GpuJs['GPU'];
  return { GPU };
}

type GpuStatics = GpuJs['GPU'] & { isWebGL2Supported?: boolean; isWebGLSupported?: boolean };

/** Make `mode` openable, or throw why this browser cannot. */
export async function prepareMode(mode: GpuMode, gpujs: GpuJs): Promise<void> {
  const GPU = gpujs.GPU as GpuStatics;
  const nav = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator;
  if (mode === 'webgpu') {
    if (!nav?.gpu) throw new Error('this browser offers no WebGPU (navigator.gpu is missing)');
    if ((await nav.gpu.requestAdapter()) === null) throw new Error('WebGPU found no adapter');
  }
  if (mode === 'webgl2' && !GPU.isWebGL2Supported) throw new Error('this browser offers no WebGL 2');
  if (mode === 'webgl' && !GPU.isWebGLSupported) throw new Error('this browser offers no WebGL');
  if (mode === 'headlessgl') throw new Error('headlessgl exists only in Node');
}
