// Every ```ts block in the README runs, so the documentation cannot drift from the code. Blocks
// import from the repo root ('./core/...'); each is written to a temp module with absolute imports.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const blocks = [...readFileSync(join(root, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);

describe('README code blocks', () => {
  it('there are some', () => expect(blocks.length).toBeGreaterThan(0));

  blocks.forEach((code, i) => {
    it(`block ${i + 1} runs`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'llmjp4-readme-'));
      const file = join(dir, `block${i}.ts`);
      writeFileSync(file, code.replaceAll("from './", `from '${root}/`));
      const log = vi.spyOn(console, 'log').mockImplementation(() => {});
      await import(file);
      log.mockRestore();
    });
  });
});
