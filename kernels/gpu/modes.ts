// Opening a gpu.js mode and proving it works: each mode is set up, runs a probe kernel, and must return
// the right numbers in the mode asked for. gpu.js itself falls back silently (to its cpu mode) when a
// mode is missing; here a mode either works or is reported unavailable with the reason.
//   webgpu      Dawn through the `webgpu` package (navigator.gpu installed here); needs an adapter:
//               a GPU driver (Vulkan), or Mesa's OpenGL ES (EGL_PLATFORM=surfaceless, compatibility mode)
//   headlessgl  the optional `gl` package (a native build) and an X display (e.g. `xvfb-run -a`)
//   webgl2/webgl the browser's WebGL (in a browser only)
//   webasm      WebAssembly SIMD, always there
//   cpu         gpu.js's own JavaScript mode, always there
// What differs between Node and a browser (which modes exist, how gpu.js is loaded, how webgpu gets an
// adapter) lives in platform.ts and its browser twin platform.browser.ts.

import { AUTO_ORDER, GPU_MODES, loadGpuJs, prepareMode, PROBE_ORDER } from './platform.js';
import { Runtime, type GpuMode } from './runtime.js';

export { AUTO_ORDER, GPU_MODES };

const PROBE = { name: 'probe', source: 'function (x, s) { return x[this.thread.x] * s + 1; }' };

/** Open `mode`: a Runtime that has already run a kernel correctly. Throws with the reason otherwise. */
export async function openMode(mode: GpuMode): Promise<Runtime> {
  if (!GPU_MODES.includes(mode))
    throw new Error(`gpu: mode '${mode}' does not exist here; choose one of ${GPU_MODES.join(', ')} or auto`);
  let rt: Runtime | null = null;
  try {
    const gpujs = await loadGpuJs();
    await prepareMode(mode, gpujs);
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
