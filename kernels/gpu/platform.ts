// The GPU backend on Node: which gpu.js modes exist here, how gpu.js is loaded (CommonJS, through
// require), and what a mode needs before gpu.js can open it (webgpu: a navigator.gpu backed by Dawn;
// headlessgl: the optional native `gl` package and an X display). platform.browser.ts is this file's
// twin for the browser bundle (the playground's build swaps it in; see train/cli/playground/bundle.ts).

import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import type { GpuJs, GpuMode } from './runtime.js';

export const GPU_MODES: readonly GpuMode[] = ['webgpu', 'headlessgl', 'webasm', 'cpu'];

/** The order `auto` tries: the first mode that works wins. */
export const AUTO_ORDER: readonly GpuMode[] = ['webgpu', 'headlessgl', 'webasm'];

/**
 * The order probeModes opens every mode in. On a machine whose only GL is Mesa's, headless-gl (GLX)
 * and Dawn's OpenGL ES backend (EGL) cannot both hold a context in one process: opened after Dawn,
 * headless-gl aborts the process with an X error; opened first, it makes Dawn find no adapter, which
 * is an ordinary, reported failure. So headlessgl is probed first.
 */
export const PROBE_ORDER: readonly GpuMode[] = ['headlessgl', 'webgpu', 'webasm', 'cpu'];

const require = createRequire(import.meta.url);

/** gpu.js itself, loaded on first use (so importing the backend costs nothing until it is created). */
export async function loadGpuJs(): Promise<GpuJs> {
  return require('gpu.js') as GpuJs;
}

/** Make `mode` openable, or throw why it cannot be. */
export async function prepareMode(mode: GpuMode, gpujs: GpuJs): Promise<void> {
  if (mode === 'webgpu') await installWebGpu();
  if (mode === 'headlessgl') checkHeadlessGl(gpujs);
  if (mode === 'webgl2' || mode === 'webgl') throw new Error(`${mode} exists only in a browser`);
}

/** Which Dawn backend this process's webgpu mode runs on, once opened. */
let dawnOn: 'default' | 'opengles' | null = null;

function checkHeadlessGl(gpujs: GpuJs): void {
  if (dawnOn === 'opengles') {
    throw new Error(
      "it cannot share a process with webgpu running on Mesa's OpenGL ES (both need the GL context; see PROBE_ORDER)",
    );
  }
  if (!gpujs.GPU.isHeadlessGLSupported) {
    throw new Error("the optional 'gl' package is not built, or there is no X display (run under xvfb-run -a); see the README");
  }
}

let webgpuInstall: Promise<void> | null = null;

/**
 * Give gpu.js a `navigator.gpu` backed by Dawn (the `webgpu` package). The adapter is asked for the
 * usual way first (a GPU driver through Vulkan), then through Mesa's OpenGL ES in WebGPU's
 * compatibility mode — the path that finds a software adapter (llvmpipe) on a machine without a GPU.
 * `LLMJP4_DAWN_BACKEND=vulkan|opengles` pins one.
 */
function installWebGpu(): Promise<void> {
  webgpuInstall ??= (async () => {
    let create: (flags: string[]) => { requestAdapter(o?: object): Promise<unknown> };
    try {
      ({ create } = (await import('webgpu')) as unknown as { create: typeof create });
    } catch (e) {
      throw new Error(
        `the 'webgpu' package does not load (${(e as Error).message.split('\n')[0]}); it needs glibc ≥ 2.38 style libstdc++ for 0.2.x, see README`,
      );
    }
    process.env.EGL_PLATFORM ??= 'surfaceless';
    const pinned = process.env.LLMJP4_DAWN_BACKEND;
    const attempts: [string[], object][] = [
      [[], {}],
      [['backend=opengles'], { featureLevel: 'compatibility' }],
    ];
    const tries = pinned
      ? [[[`backend=${pinned}`], pinned === 'opengles' ? { featureLevel: 'compatibility' } : {}] as [string[], object]]
      : attempts;
    for (const [flags, options] of tries) {
      const gpu = create(flags);
      if ((await gpu.requestAdapter(options)) === null) continue;
      const nav = {
        gpu: {
          requestAdapter: (o?: object) => gpu.requestAdapter({ ...options, ...o }),
          getPreferredCanvasFormat: () => 'rgba8unorm',
        },
        hardwareConcurrency: availableParallelism(),
      };
      Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true, writable: true });
      dawnOn = flags.includes('backend=opengles') ? 'opengles' : 'default';
      return;
    }
    throw new Error('Dawn found no adapter (no Vulkan driver, and no OpenGL ES through Mesa/EGL)');
  })();
  webgpuInstall.catch(() => (webgpuInstall = null));
  return webgpuInstall;
}
