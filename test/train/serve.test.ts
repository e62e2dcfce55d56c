// `llmjp4 serve` without a browser: bad input fails before serving, naming the problem; the server
// (a real child process) serves the bundled page and exactly the checkpoint's files, cross-origin
// isolated (COOP/COEP, which the page's SharedArrayBuffer needs), and nothing else.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe } from '../../train/cli/playground/chromium.js';
import { runCli } from '../helpers/cli.js';
import { tinyCheckpoint } from '../helpers/tiny_checkpoint.js';

describe('llmjp4 serve', () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof startServe>>;

  beforeAll(async () => {
    dir = tinyCheckpoint('llama');
    server = await startServe(dir);
  }, 60_000);

  afterAll(() => {
    server?.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a folder that would not load, and bad flags, before serving', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'llmjp4-serve-'));
    let r = await runCli('serve', '--model', empty, '--port', '0');
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toMatch(/has no tokenizer\.model/);
    copyFileSync(join(dir, 'tokenizer.model'), join(empty, 'tokenizer.model'));
    r = await runCli('serve', '--model', empty, '--port', '0');
    expect(r.err.join('\n')).toMatch(/no config\.json/);
    r = await runCli('serve', '--model', dir, '--port', 'eighty');
    expect(r.err.join('\n')).toMatch(/--port must be an integer/);
    r = await runCli('serve');
    expect(r.err.join('\n')).toMatch(/--model DIR is required/);
    rmSync(empty, { recursive: true });
  });

  it('serves the page and the checkpoint, cross-origin isolated, and nothing else', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const get = (path: string) => fetch(new URL(path, server.url));
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(page.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(await page.text()).toContain('<script type="module" src="playground.js">');
    const js = await (await get('/playground.js')).text();
    expect(js).toContain('renderAttention'); // the page's code, bundled (not minified)
    // The browser twins replace their Node files (esbuild names each bundled file in a comment).
    for (const f of ['kernels/gpu/platform', 'kernels/cpu/threads/pool']) {
      expect(js).toContain(`// ${f}.browser.ts\n`);
      expect(js).not.toContain(`// ${f}.ts\n`);
    }
    expect(await (await get('/model/info.json')).json()).toEqual({ dir, weights: ['model.safetensors'] });
    expect(((await (await get('/model/config.json')).json()) as { model_type: string }).model_type).toBe('llama');
    expect((await (await get('/model/model.safetensors')).arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    for (const path of [
      '/model/../config.json',
      '/model/%2e%2e/package.json',
      '/package.json',
      '/bundle.ts',
      '/model/optimizer.safetensors',
    ]) {
      expect((await get(path)).status, path).toBe(404);
    }
    expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
    expect((await get('/%E0%A4%A')).status).toBe(400); // a malformed path is refused, and the server lives on
    expect((await get('/')).status).toBe(200);
  });
});
