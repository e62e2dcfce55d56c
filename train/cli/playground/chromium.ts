// Driving the playground in a real browser, for the end-to-end test and the README's screenshots:
// start `llmjp4 serve` in a child process and read the URL it prints, and launch the system's
// headless Chromium (Debian's `chromium`) through playwright-core, which downloads no browser.
// playwright-core is a dev dependency: nothing the CLI runs imports this file.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Browser } from 'playwright-core';
import { PLAYGROUND_DIR } from './bundle.js';

export const CHROMIUM = process.env.LLMJP4_CHROMIUM ?? '/usr/bin/chromium';
export const haveChromium = () => existsSync(CHROMIUM);

/**
 * Chromium as root on a machine with a closed network and no GPU: no sandbox, no background
 * connections, and WebGL and WebGPU on its software GPU (SwiftShader), which it no longer enables
 * unasked — so every gpu.js mode of the page can be tested without a GPU.
 */
export const CHROMIUM_ARGS = [
  ...[
    '--no-sandbox',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
  ...[
    '--enable-unsafe-swiftshader',
    '--use-angle=swiftshader',
    '--enable-unsafe-webgpu',
    '--use-webgpu-adapter=swiftshader',
    '--enable-features=Vulkan',
  ],
];

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** `llmjp4 serve --model DIR --port 0` in a child process; resolves with the URL it prints. */
export function startServe(dir: string): Promise<{ url: string; child: ChildProcess }> {
  const root = join(PLAYGROUND_DIR, '../../..');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'train/cli/main.ts'), 'serve', '--model', dir, '--port', '0'],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((ok, fail) => {
    createInterface({ input: child.stdout! }).once('line', (url) => ok({ url, child }));
    child.once('exit', (code) => fail(new Error(`llmjp4 serve exited with ${code} before printing its URL:\n${err}`)));
  });
}
