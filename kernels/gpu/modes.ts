// Opening a gpu.js mode and proving it works: each mode is set up, runs a probe kernel, and must return
// the right numbers in the mode asked for. gpu.js itself falls back silently (to its cpu mode) when a
// mode is missing; here a mode either works or is reported unavailable with the reason.
//   webgpu      Dawn through the `webgpu` package (navigator.gpu installed here); needs an adapter:
//               a GPU driver (Vulkan), or Mesa's OpenGL ES (EGL_PLATFORM=surfaceless, compatibility mode)
//   headlessgl  the optional `gl` package (a native build) and an X display (e.g. `xvfb-run -a`)
//   webasm      WebAssembly SIMD, always there in Node
//   cpu         gpu.js's own JavaScript mode, always there

import { availableParallelism } from 'node:os';
import { loadGpuJs, Runtime, type GpuJs, type GpuMode } from './runtime.js';

export const GPU_MODES: readonly GpuMode[] = ['webgpu', 'headlessgl', 'webasm', 'cpu'];

/** The order `auto` tries: the first mode that works wins. */
export const AUTO_ORDER: readonly GpuMode[] = ['webgpu', 'headlessgl', 'webasm'];

/**
 * The order probeModes opens every mode in. On a machine whose only GL is Mesa's, headless-gl (GLX)
 * and Dawn's OpenGL ES backend (EGL) cannot both hold a context in one process: opened after Dawn,
 * headless-gl aborts the process with an X error; opened first, it makes Dawn find no adapter, which
 * is an ordinary, reported failure. So headlessgl is probed first.
 */
const PROBE_ORDER: readonly GpuMode[] = ['headlessgl', 'webgpu', 'webasm', 'cpu'];

/** Which Dawn backend this process's webgpu mode runs on, once opened. */
let dawnOn: 'default' | 'opengles' | null = null;

const PROBE = { name: 'probe', source: 'function (x, s) { return x[this.thread.x] * s + 1; }' };

/** Open `mode`: a Runtime that has already run a kernel correctly. Throws with the reason otherwise. */
export async function openMode(mode: GpuMode): Promise<Runtime> {
  if (!GPU_MODES.includes(mode)) throw new Error(`gpu: unknown mode '${mode}'; choose one of ${GPU_MODES.join(', ')} or auto`);
  let rt: Runtime | null = null;
  try {
    const gpujs = loadGpuJs();
    if (mode === 'webgpu') await installWebGpu();
    if (mode === 'headlessgl') checkHeadlessGl(gpujs);
    rt = new Runtime(mode, new gpujs.GPU({ mode }));
    await rt.init();
    const x = rt.upload(new Float32Array([1, 2, 3, 4]));
    const y = rt.run(PROBE, 4, [x, 2]);
    const got = Array.from(await rt.read(y));
    rt.memory.dispose(x);
    rt.memory.dispose(y);
    if (got.join() !== '3,5,7,9') throw new Error(`the probe kernel returned [${got.join(', ')}], expected [3, 5, 7, 9]`);
    return rt;
  } catch (e) {
    rt?.destroy();
    throw new Error(`gpu: mode ${mode} does not work here: ${(e as Error).message}`);
  }
}

function checkHeadlessGl(gpujs: GpuJs): void {
  if (dawnOn === 'opengles') {
    throw new Error("it cannot share a process with webgpu running on Mesa's OpenGL ES (both need the GL context; see modes.ts)");
  }
  if (!gpujs.GPU.isHeadlessGLSupported) {
    throw new Error("the optional 'gl' package is not built, or there is no X display (run under xvfb-run -a); see the README");
  }
}

/** For `auto`: the first of webgpu → headlessgl → webasm that opens, with the reasons the others did not. */
export async function openAuto(): Promise<{ runtime: Runtime; skipped: string[] }> {
  const skipped: string[] = [];
  for (const mode of AUTO_ORDER) {
    try {
      return { runtime: await openMode(mode), skipped };
    } catch (e) {
      skipped.push((e as Error).message);
    }
  }
  throw new Error(`gpu: no mode works here:\n  ${skipped.join('\n  ')}`);
}

/** Which of `modes` (default all) work here, each `true` or the reason it does not; the others are marked not probed. */
export async function probeModes(modes: readonly GpuMode[] = GPU_MODES): Promise<Record<GpuMode, true | string>> {
  const result = {} as Record<GpuMode, true | string>;
  for (const mode of PROBE_ORDER) {
    if (!modes.includes(mode)) {
      result[mode] = 'not probed';
      continue;
    }
    try {
      (await openMode(mode)).destroy();
      result[mode] = true;
    } catch (e) {
      result[mode] = (e as Error).message;
    }
  }
  return Object.fromEntries(GPU_MODES.map((m) => [m, result[m]])) as Record<GpuMode, true | string>;
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
      throw new Error(`the 'webgpu' package does not load (${(e as Error).message.split('\n')[0]}); it needs glibc ≥ 2.38 style libstdc++ for 0.2.x, see README`);
    }
    process.env.EGL_PLATFORM ??= 'surfaceless';
    const pinned = process.env.LLMJP4_DAWN_BACKEND;
    const attempts: [string[], object][] = [
      [[], {}],
      [['backend=opengles'], { featureLevel: 'compatibility' }],
    ];
    const tries = pinned ? [[[`backend=${pinned}`], pinned === 'opengles' ? { featureLevel: 'compatibility' } : {}] as [string[], object]] : attempts;
    for (const [flags, options] of tries) {
      const gpu = create(flags);
      if ((await gpu.requestAdapter(options)) === null) continue;
      const nav = { gpu: { requestAdapter: (o?: object) => gpu.requestAdapter({ ...options, ...o }), getPreferredCanvasFormat: () => 'rgba8unorm' }, hardwareConcurrency: availableParallelism() };
      Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true, writable: true });
      dawnOn = flags.includes('backend=opengles') ? 'opengles' : 'default';
      return;
    }
    throw new Error('Dawn found no adapter (no Vulkan driver, and no OpenGL ES through Mesa/EGL)');
  })();
  webgpuInstall.catch(() => (webgpuInstall = null));
  return webgpuInstall;
}
