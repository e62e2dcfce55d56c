// Probes of `llmjp4 serve` (issue 18, item 2), loopback only: bad input refused before serving (a random-bytes
// tokenizer.model, a public --host without --allow-remote); then one real server (a child process) under
// fast-check generated requests (any method, path and Host: only the checkpoint's files are ever served, a
// foreign Host is refused, the server lives on), 20 parallel downloads of a 10 MB weights file with bounded
// memory, a file grown past 2 GiB, a file that disappears, and SIGTERM with a half-open request pending.
import type { ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel } from '../../model/causal_lm.js';
import { savePretrained } from '../../model/pretrained.js';
import { preset } from '../../model/presets.js';
import { startServe } from '../../train/cli/playground/chromium.js';
import { runCli } from '../helpers/cli.js';
import { tinyCheckpoint } from '../helpers/tiny_checkpoint.js';

/** One raw HTTP/1.1 request over a socket (so any Host and any path can be sent); the status and body size. */
function raw(port: number, request: string, timeoutMs = 10_000): Promise<{ status: number; bytes: number }> {
  return new Promise((ok, fail) => {
    const socket = connect(port, '127.0.0.1');
    let head = Buffer.alloc(0);
    let bytes = 0; // counted, not kept: 20 downloads of the weights would be 200 MB here
    const timer = setTimeout(() => (socket.destroy(), fail(new Error(`no answer to ${JSON.stringify(request)}`))), timeoutMs);
    socket.on('data', (d: Buffer) => {
      if (head.length < 4096) head = Buffer.concat([head, d.subarray(0, 4096)]);
      bytes += d.length;
    });
    socket.on('error', fail);
    socket.on('close', () => {
      clearTimeout(timer);
      const end = head.indexOf('\r\n\r\n');
      ok({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head.toString('latin1'))?.[1] ?? 0), bytes: bytes - end - 4 });
    });
    socket.write(request); // no half-close: browsers keep the socket open for the answer (Connection: close ends it)
  });
}
const get = (port: number, path: string, host = `127.0.0.1:${port}`, method = 'GET') =>
  raw(port, `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);

/** The child's resident memory (Linux), in bytes. */
const rss = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

describe('llmjp4 serve probes', () => {
  let dir: string;
  let server: { url: string; child: ChildProcess };
  let port: number;
  const weights = () => join(dir, 'model.safetensors');

  beforeAll(async () => {
    // A checkpoint with a 10 MB weights file: a 20,000-row vocabulary on the tiny tokenizer's folder.
    dir = tinyCheckpoint('llama');
    const config = preset('tiny-llama', {
      vocab_size: 20_000,
      hidden_size: 64,
      intermediate_size: 128,
      num_hidden_layers: 1,
      head_dim: 16,
    });
    savePretrained(createModel(config, { seed: 1 }), dir);
    server = await startServe(dir);
    port = Number(new URL(server.url).port);
  }, 120_000);

  afterAll(() => {
    server?.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a tokenizer.model that is not a SentencePiece model, and a public --host without --allow-remote', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'llmjp4-serve-'));
    cpSync(dir, bad, { recursive: true });
    writeFileSync(join(bad, 'tokenizer.model'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24)));
    let r = await runCli('serve', '--model', bad, '--port', '0');
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toContain(`serve: ${join(bad, 'tokenizer.model')} is not a valid SentencePiece model`);
    r = await runCli('serve', '--model', dir, '--port', '0', '--host', '0.0.0.0');
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toContain('--host 0.0.0.0 would let other machines read the checkpoint; add --allow-remote');
    rmSync(bad, { recursive: true });
  });

  it('fast-check: any request is answered; only the checkpoint files and the page are served, and only to this Host', async () => {
    const served = new Set(['/', '/index.html', '/style.css', '/playground.js', '/model/info.json']);
    for (const f of ['config.json', 'tokenizer.model', 'model.safetensors']) served.add(`/model/${f}`);
    const segment = fc.oneof(
      fc.constantFrom(
        'model',
        '..',
        '%2e%2e',
        '.',
        'config.json',
        'optimizer.safetensors',
        'package.json',
        '%00',
        '%E0%A4%A',
        '~',
      ),
      fc.stringMatching(/^[A-Za-z0-9._%-]{0,8}$/),
    );
    const request = fc.record({
      method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'),
      path: fc.array(segment, { maxLength: 4 }).map((s) => '/' + s.join('/')),
      host: fc.constantFrom('127.0.0.1:PORT', 'localhost:PORT', 'evil.example', 'evil.example:PORT', '127.0.0.1.nip.io:PORT', ''),
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ method, path, host }) => {
        const r = await get(port, path, host.replace('PORT', String(port)), method);
        expect([200, 400, 403, 404, 405]).toContain(r.status);
        const ours = host.startsWith('127.0.0.1:') || host.startsWith('localhost:');
        if (!ours) expect(r.status, `${host} ${path}`).toBe(403);
        if (r.status === 200) {
          expect(served.has(decodeURIComponent(path)), path).toBe(true);
          expect(['GET', 'HEAD']).toContain(method);
        }
      }),
      { numRuns: 80, seed: 18 },
    );
    expect((await get(port, '/model/config.json')).status).toBe(200);
  }, 60_000);

  it('20 parallel downloads of the 10 MB weights stream them: resident memory grows by far less than 20 copies', async () => {
    const size = readFileSync(weights()).length;
    expect(size).toBeGreaterThan(10e6);
    const pid = server.child.pid!;
    const before = rss(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rss(pid))), 5);
    const results = await Promise.all(Array.from({ length: 20 }, () => get(port, '/model/model.safetensors')));
    clearInterval(sampler);
    for (const r of results) expect(r).toEqual({ status: 200, bytes: size });
    // Whole-file reads held up to 20 × 10 MB at once; streams hold a buffer per connection.
    expect(peak - before).toBeLessThan(80e6);
  }, 60_000);

  it('a file grown past 2 GiB is streamed; a file that disappears is a 404; the server lives on', async () => {
    truncateSync(weights(), 2_362_232_012); // sparse: no disk used
    const head = await raw(
      port,
      `HEAD /model/model.safetensors HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`,
    );
    expect(head.status).toBe(200);
    const first = await new Promise<string>((ok, fail) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('data', (d) => (ok(d.toString('latin1')), socket.destroy()));
      socket.on('error', fail);
      socket.write(`GET /model/model.safetensors HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    });
    expect(first).toMatch(/^HTTP\/1\.1 200 .*Content-Length: 2362232012/s);
    rmSync(weights());
    expect((await get(port, '/model/model.safetensors')).status).toBe(404);
    expect((await get(port, '/')).status).toBe(200);
  }, 30_000);

  it('SIGTERM stops it at once even with a half-open request pending', async () => {
    const socket = connect(port, '127.0.0.1');
    await new Promise((ok) => socket.once('connect', ok));
    socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `); // the headers never end
    await new Promise((ok) => setTimeout(ok, 200));
    const exited = new Promise<number | null>((ok) => server.child.once('exit', (code) => ok(code)));
    const t0 = Date.now();
    server.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5_000);
    socket.destroy();
  }, 20_000);
});
