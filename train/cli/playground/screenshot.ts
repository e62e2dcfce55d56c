// The README's playground pictures, reproducibly: serve a checkpoint, open it in headless Chromium,
// type a text, look inside and generate, then photograph the page from one element to another.
//   npx tsx train/cli/playground/screenshot.ts --model DIR --out FILE.png [--text T] [--from ID] [--to ID]
//       [--layer L] [--head H] [--new-tokens N]
// Needs the system Chromium and the dev dependencies (see chromium.ts).

import { parseArgs } from 'node:util';
import { launchChromium, startServe } from './chromium.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    out: { type: 'string' },
    text: { type: 'string', default: '吾輩は猫である。名前はまだ無い。 The cat sat on the mat.' },
    from: { type: 'string', default: 'top' },
    to: { type: 'string', default: 'attention-caption' },
    layer: { type: 'string', default: '0' },
    head: { type: 'string', default: '0' },
    'new-tokens': { type: 'string', default: '24' },
    width: { type: 'string', default: '1100' },
  },
});
if (!values.model || !values.out) throw new Error('--model DIR and --out FILE.png are required');

const server = await startServe(values.model);
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: Number(values.width), height: 900 }, deviceScaleFactor: 1 });
  await page.goto(server.url);
  await page.waitForSelector('body[data-inspected]', { timeout: 120_000 });
  await page.fill('#text', values.text!);
  await page.evaluate('delete document.body.dataset.inspected');
  await page.click('#inspect');
  await page.waitForSelector('body[data-inspected]');
  await page.selectOption('#layer', values.layer!);
  await page.selectOption('#head', values.head!);
  await page.fill('#max-new', values['new-tokens']!);
  await page.click('#generate');
  await page.waitForSelector('body[data-generated]', { timeout: 300_000 });
  const box = async (id: string) => (await page.locator(`#${id}`).boundingBox())!;
  const [a, b] = [await box(values.from!), await box(values.to!)];
  const y = Math.max(0, a.y - 8);
  await page.screenshot({
    path: values.out,
    fullPage: true,
    clip: { x: 0, y, width: Number(values.width), height: b.y + b.height + 8 - y },
  });
  console.log(`${values.out}: ${await page.textContent('#backend')} — ${await page.textContent('#status')}`);
} finally {
  await browser.close();
  server.child.kill('SIGTERM');
}
