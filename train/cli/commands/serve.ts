// `llmjp4 serve --model DIR [--port N] [--host H [--allow-remote]]`: the browser playground for a checkpoint.
// It bundles the page (train/cli/playground, esbuild), checks that DIR loads (config, weights, a valid
// tokenizer.model), then serves the page and the checkpoint's files (only those, streamed) on 127.0.0.1
// and prints the URL; Ctrl-C or SIGTERM stops it, open connections included. The page is served
// cross-origin isolated (COOP/COEP), which browsers require before they offer SharedArrayBuffer and shared
// WebAssembly memory — what the CPU kernels are built on. Requests naming another Host are refused.

import { closeSync, existsSync, fstatSync, openSync, createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { basename, join, resolve } from 'node:path';
import { pipeline } from 'node:stream';
import { parseArgs } from 'node:util';
import { fromPretrained, weightFiles, WEIGHTS_INDEX_NAME } from '../../../model/pretrained.js';
import { Tokenizer } from '../../../model/tokenizer/index.js';
import { buildPlayground } from '../playground/bundle.js';

export const serveHelp =
  'the browser playground for a checkpoint: --model DIR [--port N (default 8000; 0 = any free port)] [--host 127.0.0.1] ' +
  '[--allow-remote (required for a --host other machines can reach, such as 0.0.0.0)]';

// The server's limits: a request's headers must arrive within HEADERS_MS and the whole request within
// REQUEST_MS (a half-open connection cannot hold the server), idle keep-alive connections close after
// KEEP_ALIVE_MS, and stopping closes every connection at once. Files are streamed, never read whole.
const HEADERS_MS = 10_000;
const REQUEST_MS = 30_000;
const KEEP_ALIVE_MS = 5_000;

const isLoopback = (host: string) =>
  ['localhost', '::1', '[::1]'].includes(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);
const isWildcard = (host: string) => ['0.0.0.0', '::', '[::]'].includes(host);

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      port: { type: 'string', default: '8000' },
      host: { type: 'string', default: '127.0.0.1' },
      'allow-remote': { type: 'boolean', default: false },
    },
  });
  if (values.model === undefined)
    throw new Error('--model DIR is required (a checkpoint folder, e.g. runs/main-llama/sft/final)');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be an integer in [0, 65535], got '${values.port}'`);
  const host = values.host;
  if (!isLoopback(host)) {
    if (!values['allow-remote'])
      throw new Error(
        `serve: --host ${host} would let other machines read the checkpoint; add --allow-remote if that is meant (the default is 127.0.0.1)`,
      );
    console.error(`llmjp4 serve: warning: serving on ${host}, reachable from other machines (--allow-remote)`);
  }
  const dir = resolve(values.model);
  const tokenizerPath = join(dir, 'tokenizer.model');
  if (!existsSync(tokenizerPath))
    throw new Error(`serve: ${dir} has no tokenizer.model (the main job's final/ folders have one)`);
  try {
    Tokenizer.fromFile(tokenizerPath); // the page would fail on it later, less clearly
  } catch (e) {
    throw new Error(`serve: ${tokenizerPath} is not a valid SentencePiece model: ${(e as Error).message}`);
  }
  fromPretrained(dir); // fails here, clearly, on a folder that would not load in the page either
  const weights = [...new Set(weightFiles(dir).values())].map((p) => basename(p));

  const t0 = performance.now();
  const page = await buildPlayground();
  const modelFiles = new Map<string, { path: string; type: string }>([
    ['config.json', { path: join(dir, 'config.json'), type: 'application/json' }],
    ['tokenizer.model', { path: tokenizerPath, type: 'application/octet-stream' }],
    ...weights.map((w) => [w, { path: join(dir, w), type: 'application/octet-stream' }] as const),
  ]);
  if (existsSync(join(dir, WEIGHTS_INDEX_NAME)))
    modelFiles.set(WEIGHTS_INDEX_NAME, { path: join(dir, WEIGHTS_INDEX_NAME), type: 'application/json' });
  const info = JSON.stringify({ dir: values.model, weights });

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    // DNS rebinding: a page on evil.example whose name is re-pointed at 127.0.0.1 sends `Host: evil.example`.
    if (!hostAllowed(req.headers.host, host))
      return send(res, 403, 'text/plain', `Host ${JSON.stringify(req.headers.host ?? '')} is not this server`);
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return send(res, 400, 'text/plain', 'bad request path');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'GET only');
    const head = req.method === 'HEAD';
    const file = path === '/' ? 'index.html' : path.slice(1);
    const built = page.get(file);
    if (built) return send(res, 200, built.type, built.body, head);
    if (file === 'model/info.json') return send(res, 200, 'application/json', info, head);
    const m = file.startsWith('model/') ? modelFiles.get(file.slice('model/'.length)) : undefined;
    if (m) return sendFile(res, m.path, m.type, head);
    send(res, 404, 'text/plain', `not found: ${path}`);
  };
  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      // One request's failure is that request's 500, never the server's end.
      console.error(`llmjp4 serve: ${req.method} ${req.url}: ${(e as Error).message}`);
      if (!res.headersSent) send(res, 500, 'text/plain', 'internal error');
      else res.destroy();
    }
  });
  server.headersTimeout = HEADERS_MS;
  server.requestTimeout = REQUEST_MS;
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      fail(
        e.code === 'EADDRINUSE' ? new Error(`serve: port ${port} is in use; pick another with --port N (0 = any free port)`) : e,
      ),
    );
    server.listen(port, host, () => ok());
  });
  const addr = server.address();
  const url = `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${typeof addr === 'object' && addr ? addr.port : port}/`;
  console.error(`llmjp4 serve: page built in ${(performance.now() - t0).toFixed(0)} ms; serving ${dir} (Ctrl-C stops)`);
  console.log(url);
  await new Promise<void>((done) => {
    const stop = () => {
      server.close(() => done());
      // Open connections (a download, a half-sent request) would keep close() waiting: end them now.
      server.closeAllConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

/** Is `header` (host[:port]) this server: loopback, the bound name, or (bound to all interfaces) an IP literal? */
function hostAllowed(header: string | undefined, bound: string): boolean {
  if (!header) return false;
  const name = (header.startsWith('[') ? header.slice(1, header.indexOf(']')) : header.replace(/:\d*$/, '')).toLowerCase();
  if (isLoopback(name) || name === bound.toLowerCase().replace(/^\[|\]$/g, '')) return true;
  // An IP literal cannot be re-pointed by DNS; only names can.
  return isWildcard(bound) && isIP(name) !== 0;
}

const HEADERS = {
  'Cache-Control': 'no-store',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

function send(res: ServerResponse, status: number, type: string, body: string | Uint8Array, headOnly = false): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
    ...HEADERS,
  });
  res.end(headOnly ? undefined : body);
}

/**
 * A checkpoint file, streamed (memory per request is a stream buffer, whatever the file's size — over
 * 2 GiB too). It is opened first, so a file that has gone is a 404 and one that goes mid-download is
 * still read to the end from the open descriptor; a read error ends that response only.
 */
function sendFile(res: ServerResponse, path: string, type: string, headOnly: boolean): void {
  let fd: number;
  let size: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return send(res, code === 'ENOENT' ? 404 : 500, 'text/plain', `cannot read ${basename(path)} (${code ?? 'error'})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    size = st.size;
  } catch (e) {
    closeSync(fd);
    return send(res, 500, 'text/plain', `cannot read ${basename(path)} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': size, ...HEADERS });
  if (headOnly) {
    closeSync(fd);
    return void res.end();
  }
  pipeline(createReadStream(path, { fd, autoClose: true }), res, (e) => {
    if (e && (e as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE')
      console.error(`llmjp4 serve: sending ${path} failed: ${e.message}`);
  });
}
