// `llmjp4 serve --model DIR [--port N] [--host H]`: the browser playground for a checkpoint. It bundles
// the page (train/cli/playground, esbuild), checks that DIR loads (config, weights, tokenizer.model), then
// serves the page and the checkpoint's files on localhost and prints the URL; Ctrl-C stops it.
// The page is served cross-origin isolated (COOP/COEP headers), which browsers require before they
// offer SharedArrayBuffer and shared WebAssembly memory — what the CPU kernels are built on.

import { existsSync, readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fromPretrained, weightFiles, WEIGHTS_INDEX_NAME } from '../../../model/pretrained.js';
import { buildPlayground } from '../playground/bundle.js';

export const serveHelp =
  'the browser playground for a checkpoint: --model DIR [--port N (default 8000; 0 = any free port)] [--host 127.0.0.1]';

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      port: { type: 'string', default: '8000' },
      host: { type: 'string', default: '127.0.0.1' },
    },
  });
  if (values.model === undefined)
    throw new Error('--model DIR is required (a checkpoint folder, e.g. runs/main-llama/sft/final)');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be an integer in [0, 65535], got '${values.port}'`);
  const dir = resolve(values.model);
  if (!existsSync(join(dir, 'tokenizer.model')))
    throw new Error(`serve: ${dir} has no tokenizer.model (the main job's final/ folders have one)`);
  fromPretrained(dir); // fails here, clearly, on a folder that would not load in the page either
  const weights = [...new Set(weightFiles(dir).values())].map((p) => basename(p));

  const t0 = performance.now();
  const page = await buildPlayground();
  const modelFiles = new Map<string, { path: string; type: string }>([
    ['config.json', { path: join(dir, 'config.json'), type: 'application/json' }],
    ['tokenizer.model', { path: join(dir, 'tokenizer.model'), type: 'application/octet-stream' }],
    ...weights.map((w) => [w, { path: join(dir, w), type: 'application/octet-stream' }] as const),
  ]);
  if (existsSync(join(dir, WEIGHTS_INDEX_NAME)))
    modelFiles.set(WEIGHTS_INDEX_NAME, { path: join(dir, WEIGHTS_INDEX_NAME), type: 'application/json' });
  const info = JSON.stringify({ dir: values.model, weights });

  const server = createServer((req, res) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return send(res, 400, 'text/plain', 'bad request path');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'GET only');
    const file = path === '/' ? 'index.html' : path.slice(1);
    const built = page.get(file);
    if (built) return send(res, 200, built.type, built.body, req.method === 'HEAD');
    if (file === 'model/info.json') return send(res, 200, 'application/json', info, req.method === 'HEAD');
    const m = file.startsWith('model/') ? modelFiles.get(file.slice('model/'.length)) : undefined;
    if (m) return send(res, 200, m.type, readFileSync(m.path), req.method === 'HEAD');
    send(res, 404, 'text/plain', `not found: ${path}`);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      fail(
        e.code === 'EADDRINUSE' ? new Error(`serve: port ${port} is in use; pick another with --port N (0 = any free port)`) : e,
      ),
    );
    server.listen(port, values.host, () => ok());
  });
  const addr = server.address();
  const url = `http://${values.host}:${typeof addr === 'object' && addr ? addr.port : port}/`;
  console.error(`llmjp4 serve: page built in ${(performance.now() - t0).toFixed(0)} ms; serving ${dir} (Ctrl-C stops)`);
  console.log(url);
  await new Promise<void>((done) => {
    const stop = () => server.close(() => done());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

function send(res: ServerResponse, status: number, type: string, body: string | Uint8Array, headOnly = false): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
    'Cache-Control': 'no-store',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
  });
  res.end(headOnly ? undefined : body);
}
