// The browser playground end to end: `llmjp4 serve` (the real command, in a child process) serves the
// page for a tiny MoE checkpoint; headless Chromium (Debian's `chromium`, driven by playwright-core — no
// browser download) loads it, types a prompt, and the tokens, an attention map, the expert routing
// and generated text appear; the page's logits in WebGPU, WebGL 2 (both on Chromium's software GPU
// here) and gpu.js's WebAssembly mode equal the Node CLI's `forward` on the same ids.
// Without Chromium this file skips by name (`apt-get install chromium`; .ci/run installs it).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tokenizer } from '../../model/tokenizer/tokenizer.js';
import { CHROMIUM, haveChromium, launchChromium, startServe } from '../../train/cli/playground/chromium.js';
import { runCli } from '../helpers/cli.js';
import { tinyCheckpoint } from '../helpers/tiny_checkpoint.js';

const HAVE_CHROMIUM = haveChromium();
const PROMPT = '坊っちゃんは東京の学校へ行った。 The ghost of Christmas';

const maxAbsDiff = (a: readonly number[], b: readonly number[]) => {
  expect(a.length).toBe(b.length);
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
};

describe.skipIf(!HAVE_CHROMIUM)(
  `playground in headless Chromium (${HAVE_CHROMIUM ? CHROMIUM : `skipped: no Chromium at ${CHROMIUM}; apt-get install chromium`})`,
  () => {
    let dir: string;
    let server: { url: string; child: ChildProcess };
    let browser: Browser;

    beforeAll(async () => {
      dir = tinyCheckpoint('qwen3_moe');
      server = await startServe(dir);
      browser = await launchChromium();
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      server?.child.kill('SIGTERM');
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    async function open(mode: string) {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${server.url}?mode=${mode}`);
      await page.waitForSelector('body[data-ready]', { timeout: 120_000 }).catch(async (e) => {
        throw new Error(
          `the page did not get ready: ${await page.textContent('#status')} ${errors.join('; ')} (${(e as Error).message})`,
        );
      });
      return { page, errors };
    }

    it('shows the tokens, an attention map, the expert routing and generated text for a typed prompt', async () => {
      const { page, errors } = await open('auto');
      const mode = await page.getAttribute('#backend', 'data-mode');
      expect(await page.textContent('#backend')).toContain(`gpu.js ${mode}`); // the page says what it runs on
      await page.fill('#text', PROMPT);
      await page.evaluate('delete document.body.dataset.inspected');
      await page.click('#inspect');
      await page.waitForSelector('body[data-inspected]');
      const want = Tokenizer.fromFile(join(dir, 'tokenizer.model'));
      const ids = want.encode(PROMPT);
      const T = ids.length;
      expect(await page.locator('.token .id').allTextContents()).toEqual(ids.map(String));
      expect(await page.locator('.token .piece').allTextContents()).toEqual(ids.map((id) => want.idToPiece(id)));
      expect(await page.locator('#next .candidate').count()).toBe(10);
      // Each token after the first shows the probability the model gave it one position earlier.
      const shown = await page.locator('.token').evaluateAll((cs) => cs.map((c) => c.getAttribute('data-p')));
      const cli = await runCli('forward', '--model', dir, '--ids', ids.join(','), '--json');
      const logits = (JSON.parse(cli.out.join('\n')).logits as number[][][])[0]!;
      expect(shown[0]).toBeNull();
      ids.slice(1).forEach((id, i) => {
        const row = logits[i]!;
        const max = Math.max(...row);
        const p = Math.exp(row[id]! - max) / row.reduce((s, x) => s + Math.exp(x - max), 0);
        expect(Math.abs(Number(shown[i + 1]) - p)).toBeLessThan(1e-5);
      });
      // One cell per (query, key); every row sums to 1, and keys after the query get nothing (causal).
      const weights = (await page
        .locator('#attention rect')
        .evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('data-weight'))))) as number[];
      expect(weights.length).toBe(T * T);
      for (let q = 0; q < T; q++) {
        expect(weights.slice(q * T, q * T + T).reduce((s, w) => s + w, 0)).toBeCloseTo(1, 2);
        expect(weights.slice(q * T + q + 1, q * T + T).every((w) => w === 0)).toBe(true);
      }
      await page.selectOption('#layer', '1');
      await page.selectOption('#head', '3');
      expect(await page.textContent('#attention-caption')).toContain('layer 1, head 3');
      expect(await page.locator('#heads .thumb').count()).toBe(4); // every head of the layer, small
      expect(await page.textContent('#heads .thumb.selected')).toBe('head 3');
      await page.click('#heads .thumb:nth-child(3)');
      expect(await page.textContent('#attention-caption')).toContain('layer 1, head 2');
      // Two sparse layers × top-2 experts per token.
      expect(await page.locator('#routing .expert').count()).toBe(T * 2 * 2);
      await page.fill('#max-new', '6');
      await page.click('#generate');
      await page.waitForSelector('body[data-generated]', { timeout: 120_000 });
      expect(Number(await page.getAttribute('body', 'data-generated'))).toBeGreaterThan(0);
      expect((await page.textContent('#generated'))!.length).toBeGreaterThan(0);
      expect(errors).toEqual([]);
      await page.close();
    });

    for (const mode of ['webgpu', 'webgl2', 'webasm']) {
      it(`the page's logits (${mode}) equal \`llmjp4 forward\` on the same ids`, async () => {
        const { page } = await open(mode);
        expect(await page.getAttribute('#backend', 'data-mode')).toBe(mode);
        const ids = Tokenizer.fromFile(join(dir, 'tokenizer.model')).encode(PROMPT);
        type PageApi = { llmjp4: { tokenize(t: string): number[]; forward(i: number[]): Promise<number[]> } };
        expect(await page.evaluate((text) => (globalThis as unknown as PageApi).llmjp4.tokenize(text), PROMPT)).toEqual(ids);
        const got = await page.evaluate((x) => (globalThis as unknown as PageApi).llmjp4.forward(x), ids);
        const cli = await runCli('forward', '--model', dir, '--ids', ids.join(','), '--json');
        expect(cli.code).toBe(0);
        const want = (JSON.parse(cli.out.join('\n')).logits as number[][][])[0]!.flat();
        // float32 on a GPU (or gpu.js's WebAssembly) against float32 on the CPU: summation orders differ.
        const diff = maxAbsDiff(got, want);
        console.log(
          `playground ${mode} (${await page.getAttribute('#backend', 'data-mode')}): ${got.length} logits, largest |page − CLI| = ${diff.toExponential(2)}`,
        );
        expect(diff).toBeLessThan(1e-4);
        await page.close();
      });
    }
  },
);
