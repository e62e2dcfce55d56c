// The ```ts blocks of the README files that form the guided tour, and a way to run one. The tour test
// (test/readme.test.ts) runs every block; a learner runs one with
//   npx tsx test/helpers/readme_blocks.ts model/README.md 2     (the second ts block of model/README.md)
// Blocks import from the repo root ('./core/index.js'); each is written to a temp module whose imports
// are made absolute, then imported, so it runs exactly as the text shows it.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '..', '..', '..');

/** The root README, then one README per top-level source folder, in the order the tour reads them. */
export const TOUR_FILES = [
  'README.md',
  'core/README.md',
  'kernels/README.md',
  'model/README.md',
  'train/README.md',
  'bench/README.md',
] as const;

export interface Block {
  /** The README's path relative to the repo root. */
  file: string;
  /** 1-based number among the file's ts blocks. */
  n: number;
  /** Line of the opening fence. */
  line: number;
  code: string;
}

/** Every ```ts block of a README (other languages — sh, text — are not run). */
export function readmeBlocks(file: string): Block[] {
  const text = readFileSync(join(REPO_ROOT, file), 'utf8');
  const blocks: Block[] = [];
  for (const m of text.matchAll(/^```ts\n([\s\S]*?)^```/gm)) {
    const line = text.slice(0, m.index).split('\n').length;
    blocks.push({ file, n: blocks.length + 1, line, code: m[1]! });
  }
  return blocks;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped (hyphens and underscores kept), spaces → '-'. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replaceAll(' ', '-');
}

/** The anchors of a README's headings (outside code fences). */
export function anchorsOf(file: string): Set<string> {
  const text = readFileSync(join(REPO_ROOT, file), 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => headingAnchor(m[1]!)));
}

/** Relative links of a README, outside code fences: `[text](path#anchor)` with path relative to the file. */
export function relativeLinks(file: string): { target: string; anchor: string | null; text: string }[] {
  const text = readFileSync(join(REPO_ROOT, file), 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  const links = [...text.matchAll(/\[([^\]]*)\]\(([^)\s]+)\)/g)].filter((m) => !/^[a-z]+:/.test(m[2]!));
  return links.map((m) => {
    const [path, anchor] = m[2]!.split('#') as [string, string | undefined];
    const target = path === '' ? file : join(dirname(file), path);
    return { target, anchor: anchor ?? null, text: m[0] };
  });
}

/** Run one block as a module; an error is rethrown naming the file, the block and its line. */
export async function runBlock(b: Block): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'llmjp4-tour-'));
  const path = join(dir, `${b.file.replaceAll('/', '_')}.block${b.n}.mts`);
  writeFileSync(path, b.code.replaceAll("from './", `from '${REPO_ROOT}/`));
  try {
    await import(pathToFileURL(path).href);
  } catch (e) {
    const err = e as Error;
    throw new Error(`${b.file} block ${b.n} (line ${b.line}): ${err.message}`, { cause: err });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [file, n] = process.argv.slice(2);
  const blocks = file ? readmeBlocks(file) : [];
  const b = blocks[Number(n) - 1];
  if (!b) {
    console.error(
      `usage: npx tsx test/helpers/readme_blocks.ts FILE N  (FILE one of ${TOUR_FILES.join(', ')}; N from 1 to its number of ts blocks${file ? `, here ${blocks.length}` : ''})`,
    );
    process.exit(2);
  }
  process.chdir(REPO_ROOT);
  await runBlock(b);
}
