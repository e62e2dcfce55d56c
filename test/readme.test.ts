// The guided tour cannot rot: every ```ts block in the root README and in each source folder's README
// (core, kernels, model, train, bench) runs here, so the documentation cannot drift from the code.
// A failure names the file, the block and its line. Tour blocks must also print something (each is a
// worked example a learner runs: `npx tsx test/helpers/readme_blocks.ts FILE N`), and the links between
// the READMEs must reach files and headings that exist.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { anchorsOf, readmeBlocks, relativeLinks, REPO_ROOT, runBlock, TOUR_FILES } from './helpers/readme_blocks.js';

for (const file of TOUR_FILES) {
  describe(file, () => {
    it('exists and has ts blocks', () => {
      expect(existsSync(join(REPO_ROOT, file)), `${file} is missing`).toBe(true);
      expect(readmeBlocks(file).length, `${file} has no ts blocks`).toBeGreaterThan(0);
    });

    it('links only to files and headings that exist', () => {
      const broken = relativeLinks(file).filter(
        ({ target, anchor }) =>
          !existsSync(join(REPO_ROOT, target)) || (anchor !== null && target.endsWith('.md') && !anchorsOf(target).has(anchor)),
      );
      expect(
        broken.map((l) => l.text),
        `${file} has broken links`,
      ).toEqual([]);
    });

    const blocks = existsSync(join(REPO_ROOT, file)) ? readmeBlocks(file) : [];
    for (const b of blocks) {
      it(`block ${b.n} (line ${b.line}) runs`, async () => {
        const lines: string[] = [];
        const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
        try {
          await runBlock(b);
        } finally {
          log.mockRestore();
        }
        if (file !== 'README.md')
          expect(lines.length, `${file} block ${b.n} (line ${b.line}) printed nothing`).toBeGreaterThan(0);
      });
    }
  });
}
