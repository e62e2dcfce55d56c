// The quick half of the package check, run by `npm test`: what `npm pack` would ship, read without
// building. Every export and the bin must come from a file the build compiles, the tarball must hold
// what the compiled code reads at run time and no tests, and the compiled code may import only runtime
// dependencies. The slow half — pack, install, typecheck and run a consumer — is test/package/consumer.ts
// (.ci/run runs it on each Node line).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  exports: Record<string, { types: string; default: string } | string | null>;
  dependencies: Record<string, string>;
};

/** The sources tsconfig.build.json compiles, relative to the repository (e.g. 'core/index.ts'). */
function builtSources(): Set<string> {
  const configPath = join(REPO, 'tsconfig.build.json');
  const { config } = ts.readConfigFile(configPath, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, REPO, undefined, configPath);
  return new Set(parsed.fileNames.map((f) => relative(REPO, f)));
}

/** The source a dist/ path is compiled from: './dist/core/index.js' or '.d.ts' → 'core/index.ts'. */
const sourceOf = (target: string) => target.replace(/^\.\/dist\//, '').replace(/(\.d\.ts|\.js)$/, '.ts');

describe('package', () => {
  const built = builtSources();

  it('exports only entry points the build emits, with types beside each', () => {
    for (const [entry, target] of Object.entries(pkg.exports)) {
      if (target === null || typeof target === 'string') continue;
      expect(sourceOf(target.types), `${entry}: types and code from one source`).toBe(sourceOf(target.default));
      const source = sourceOf(target.default);
      if (source.includes('*')) {
        const dir = source.slice(0, source.indexOf('*'));
        expect(
          [...built].some((f) => f.startsWith(dir)),
          `${entry}: the build compiles nothing under ${dir}`,
        ).toBe(true);
      } else expect(built.has(source), `${entry}: ${source} is not compiled by tsconfig.build.json`).toBe(true);
    }
    expect(Object.keys(pkg.exports)).toEqual(expect.arrayContaining(['.', './core', './core/testing']));
  });

  it('its bin runs the compiled CLI when installed', () => {
    const bin = readFileSync(join(REPO, pkg.bin.llmjp4!), 'utf8');
    const target = /import\('(\.\.\/\.\.\/\.\.\/dist\/[^']+)'\)/.exec(bin)?.[1];
    expect(target, 'the bin imports a dist/ file').toBeDefined();
    expect(
      built.has(
        relative(REPO, join(REPO, pkg.bin.llmjp4!, '..', target!))
          .replace(/^dist\//, '')
          .replace(/\.js$/, '.ts'),
      ),
    ).toBe(true);
  });

  it('ships the run-time data and the bin, and no tests', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, encoding: 'utf8' });
    const files = (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    for (const needed of [pkg.bin.llmjp4!, 'package.json', 'README.md', 'LICENSE', 'train/configs/llama/pretrain.json'])
      expect(files, needed).toContain(needed);
    // The main job's corpus and `code` sub-corpus are read from the package root (train/data/corpus.ts).
    expect(files.some((f) => f.startsWith('train/data/corpus/'))).toBe(true);
    expect(files.filter((f) => /^test\/|\.test\.ts$|screenshots\/|^bench\//.test(f))).toEqual([]);
  });

  it('compiled code imports only runtime dependencies', () => {
    const allowed = new Set([...Object.keys(pkg.dependencies), 'webgpu' /* gpu.js's, loaded by kernels/gpu/platform.ts */]);
    const bad: string[] = [];
    for (const file of built) {
      if (file.endsWith('.d.ts')) continue;
      const info = ts.preProcessFile(readFileSync(join(REPO, file), 'utf8'), true, true);
      for (const { fileName } of info.importedFiles) {
        if (fileName.startsWith('.') || fileName.startsWith('node:')) continue;
        const name = fileName.startsWith('@') ? fileName.split('/').slice(0, 2).join('/') : fileName.split('/')[0]!;
        // Type-only imports vanish from the compiled JavaScript.
        const typeOnly = new RegExp(`import type [^;]*'${fileName}'`).test(readFileSync(join(REPO, file), 'utf8'));
        if (!allowed.has(name) && !typeOnly) bad.push(`${file} imports ${fileName}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
