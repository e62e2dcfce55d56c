// Building the playground page: esbuild bundles train/cli/playground/main.ts — and through it the same
// core/, kernels/ and model/ code that runs in Node — into one ES module for the browser. Two rules
// make Node code browser code:
//   1. A source file `X.ts` with a twin `X.browser.ts` beside it is replaced by the twin (the gpu.js
//      platform file and the CPU thread pool have one).
//   2. `node:*` modules become stubs whose functions throw "… is not available in the browser": code
//      that reads files or starts threads is still imported (it shares a module with browser-safe code)
//      but never called on the page. A new import from a node module must be added to NODE_STUBS — the
//      build fails naming it otherwise.
// Nothing is minified: the page's source is as readable as this repository's.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';

export const PLAYGROUND_DIR = dirname(fileURLToPath(import.meta.url));

/** The named imports each stubbed node module provides (only these may be imported by browser-bound code). */
const NODE_STUBS: Record<string, readonly string[]> = {
  'node:fs': [
    'closeSync',
    'existsSync',
    'fstatSync',
    'fsyncSync',
    'mkdirSync',
    'openSync',
    'readdirSync',
    'readFileSync',
    'readSync',
    'renameSync',
    'rmSync',
    'statSync',
    'writeSync',
  ],
  'node:path': ['dirname', 'join'],
  'node:os': ['availableParallelism', 'freemem', 'totalmem'],
  'node:module': ['createRequire'],
  'node:url': ['pathToFileURL'],
  'node:worker_threads': ['Worker', 'parentPort'],
};

const browserTwins: Plugin = {
  name: 'browser-twins',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      // From source the twin is X.browser.ts; in the compiled dist/ it is X.browser.js.
      const base = resolve(args.resolveDir, args.path).replace(/\.(js|ts)$/, '');
      const twin = [`${base}.browser.ts`, `${base}.browser.js`].find((p) => existsSync(p));
      return twin ? { path: twin } : undefined;
    });
  },
};

const nodeStubs: Plugin = {
  name: 'node-stubs',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'node-stub' }));
    build.onLoad({ filter: /.*/, namespace: 'node-stub' }, (args) => {
      const names = NODE_STUBS[args.path];
      if (!names)
        return { errors: [{ text: `${args.path} has no browser stub; add it to NODE_STUBS in train/cli/playground/bundle.ts` }] };
      const fail = `(name) => () => { throw new Error(\`\${name} (${args.path}) is not available in the browser\`); }`;
      return {
        contents: `const unavailable = ${fail};\n${names.map((n) => `export const ${n} = unavailable('${n}');`).join('\n')}\n`,
        loader: 'js',
      };
    });
  },
};

/** The page's files: index.html, style.css and playground.js (the bundle), as bytes by name. */
export async function buildPlayground(): Promise<Map<string, { body: Uint8Array; type: string }>> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [join(PLAYGROUND_DIR, 'main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    sourcemap: 'inline',
    logLevel: 'silent',
    plugins: [browserTwins, nodeStubs],
  });
  const files = new Map<string, { body: Uint8Array; type: string }>();
  files.set('playground.js', { body: result.outputFiles[0]!.contents, type: 'text/javascript; charset=utf-8' });
  files.set('index.html', { body: readFileSync(join(PLAYGROUND_DIR, 'index.html')), type: 'text/html; charset=utf-8' });
  files.set('style.css', { body: readFileSync(join(PLAYGROUND_DIR, 'style.css')), type: 'text/css; charset=utf-8' });
  return files;
}
