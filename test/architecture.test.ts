// The house rules of DESIGN.md that a compiler does not check, checked on the source tree: data flows one
// way (train → model → core → kernels), no import circle between source files outside core/, library code
// never imports the CLI, and no file over 400 lines. Imports are read with TypeScript's own pre-processor.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const SOURCE_DIRS = ['core', 'kernels', 'model', 'train', 'bench'];

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const rel = join(dir, e.name);
    if (e.isDirectory() && e.name !== 'node_modules') out.push(...tsFiles(rel));
    else if (e.isFile() && e.name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

/** Relative imports of `file` (static, dynamic and type-only), as repository paths of .ts files. */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(join(ROOT, file), 'utf8'), true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => relative(ROOT, resolve(ROOT, dirname(file), spec)).replace(/\.js$/, '.ts'));
}

/** Strongly connected components of more than one file (Tarjan): each is an import circle. */
export function importCircles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1) circles.push(scc.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return circles;
}

const files = SOURCE_DIRS.flatMap(tsFiles);
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const layer = (f: string) => f.split('/')[0]!;

describe('architecture', () => {
  it('finds import circles (the checker itself)', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(importCircles(g)).toEqual([['a', 'b', 'c']]);
    expect(
      importCircles(
        new Map([
          ['a', ['b']],
          ['b', []],
        ]),
      ),
    ).toEqual([]);
  });

  it('has no import circle between source files outside core/', () => {
    const circles = importCircles(graph).filter((c) => c.some((f) => layer(f) !== 'core'));
    expect(circles).toEqual([]);
  });

  it('sends data one way: train → model → core → kernels (bench may use all)', () => {
    const allowed: Record<string, readonly string[]> = {
      kernels: ['kernels', 'core'],
      core: ['core', 'kernels'],
      model: ['model', 'core', 'kernels'],
      train: ['train', 'model', 'core', 'kernels'],
      bench: ['bench', 'train', 'model', 'core', 'kernels'],
    };
    const wrong = [...graph].flatMap(([f, deps]) =>
      deps.filter((d) => !allowed[layer(f)]!.includes(layer(d))).map((d) => `${f} → ${d}`),
    );
    expect(wrong).toEqual([]);
  });

  it("gives kernels only core's small types (dtype, shape, the kernel contract), never Tensor or autograd", () => {
    const small = new Set(['core/dtype.ts', 'core/shape.ts', 'core/kernel_types.ts']);
    const wrong = [...graph]
      .filter(([f]) => layer(f) === 'kernels')
      .flatMap(([f, deps]) => deps.filter((d) => layer(d) === 'core' && !small.has(d)).map((d) => `${f} → ${d}`));
    expect(wrong).toEqual([]);
  });

  it('keeps library code off the CLI: nothing outside train/cli/ imports it', () => {
    const wrong = [...graph].flatMap(([f, deps]) =>
      f.startsWith('train/cli/') ? [] : deps.filter((d) => d.startsWith('train/cli/')).map((d) => `${f} → ${d}`),
    );
    expect(wrong).toEqual([]);
  });

  it('has no TypeScript file over 400 lines (tests included)', () => {
    const long = [...files, ...tsFiles('test')]
      .map((f) => ({ f, lines: readFileSync(join(ROOT, f), 'utf8').split('\n').length - 1 }))
      .filter(({ lines }) => lines > 400)
      .map(({ f, lines }) => `${f}: ${lines}`);
    expect(long).toEqual([]);
  });
});
