// The pinned tokenizer CLI: `tokenize` (--text/--json, --jsonl), `detokenize` and `train-tokenizer`,
// through `main` with console.log spied, and once through the real `npx llmjp4` bin.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../train/cli/main.js';
import { MODEL_PATH, llmjp4 } from './fixtures.js';

const ROOT = resolve(import.meta.dirname, '../../..');

/** Runs the CLI and returns its exit code and what it printed. */
async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  const error = vi.spyOn(console, 'error').mockImplementation(() => {});
  const code = await main(args);
  const result = { code, out: log.mock.calls.map((c) => String(c[0])), err: error.mock.calls.map((c) => String(c[0])) };
  log.mockRestore();
  error.mockRestore();
  return result;
}

afterEach(() => vi.restoreAllMocks());

describe('llmjp4 tokenize / detokenize', () => {
  it('--text --json prints {"ids", "pieces"} as sp.encode returns them (no BOS)', async () => {
    const r = await run(['tokenize', '--tokenizer', MODEL_PATH, '--text', 'こんにちは、世界！', '--json']);
    expect(r.code).toBe(0);
    expect(r.out).toEqual(['{"ids":[8404,620,2354,935],"pieces":["▁こんにちは","、","世界","！"]}']);
    const plain = await run(['tokenize', '--tokenizer', MODEL_PATH, '--text', 'Hello']);
    expect(plain.out).toEqual(['1 tokens', '  43204  "▁Hello"']);
  });

  it('--jsonl reads one JSON string per line and writes {"ids", "pieces", "decoded"} per line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmjp4-cli-'));
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, ['"a  b"', '"\\n\\tx"', '', '"<mask>"'].join('\n'));
    const r = await run(['tokenize', '--tokenizer', MODEL_PATH, '--jsonl', input]);
    expect(r.out.map((l) => JSON.parse(l))).toEqual([
      { ids: [616, 609, 1442], pieces: ['▁a', '▁', '▁b'], decoded: 'a  b' },
      { ids: [609, 362, 361, 719], pieces: ['▁', '<0x0A>', '<0x09>', 'x'], decoded: '\n\tx' },
      { ids: [609, 3], pieces: ['▁', '<mask>'], decoded: '<mask>' },
    ]);
    writeFileSync(input, '{"text": 1}\n');
    const bad = await run(['tokenize', '--tokenizer', MODEL_PATH, '--jsonl', input]);
    expect(bad.code).toBe(1);
    expect(bad.err[0]).toBe(`llmjp4 tokenize: ${input} line 1 is a JSON object, expected a string`);
  });

  it('detokenize prints sp.decode text, {"text"} with --json', async () => {
    expect((await run(['detokenize', '--tokenizer', MODEL_PATH, '--ids', '1,43204,579', '--json'])).out).toEqual([
      '{"text":"Hello\\ufffd"}'.replace('\\ufffd', '\ufffd'),
    ]);
    expect((await run(['detokenize', '--tokenizer', MODEL_PATH, '--ids', '[616, 609, 1442]'])).out).toEqual(['a  b']);
  });

  it('fails with one clear line on bad arguments and bad files', async () => {
    const cases: [string[], string][] = [
      [['tokenize', '--text', 'x'], 'llmjp4 tokenize: --tokenizer FILE is required (a SentencePiece .model file)'],
      [['tokenize', '--tokenizer', MODEL_PATH], 'llmjp4 tokenize: give exactly one of --text TEXT or --jsonl FILE'],
      [['tokenize', '--tokenizer', '/nope.model', '--text', 'x'], 'llmjp4 tokenize: cannot read tokenizer model /nope.model'],
      [
        ['tokenize', '--tokenizer', join(ROOT, 'package.json'), '--text', 'x'],
        `llmjp4 tokenize: ${join(ROOT, 'package.json')}: `,
      ],
      [['detokenize', '--tokenizer', MODEL_PATH, '--ids', '1,x'], "llmjp4 detokenize: --ids: 'x' is not an integer"],
      [
        ['detokenize', '--tokenizer', MODEL_PATH, '--ids', '999999'],
        'llmjp4 detokenize: decode: piece id 999999 is out of range [0, 196608)',
      ],
      [['train-tokenizer', '--input', '.'], 'llmjp4 train-tokenizer: --input DIR, --vocab-size N and --out FILE are required'],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err[0]!.startsWith(message), r.err[0]).toBe(true);
    }
  });

  it('train-tokenizer writes a model that loads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmjp4-train-'));
    writeFileSync(join(dir, 'a.txt'), 'the cat sat on the mat\nthe dog sat on the log\n吾輩は猫である。\n'.repeat(20));
    const out = join(dir, 'out', 'small.model');
    const r = await run(['train-tokenizer', '--input', dir, '--vocab-size', '700', '--out', out, '--quiet']);
    expect(r.code).toBe(0);
    expect(r.out.at(-1)).toMatch(/^wrote .*small\.model: \d+ pieces in [\d.]+ s$/);
    const t = await run(['tokenize', '--tokenizer', out, '--text', 'the cat', '--json']);
    expect(JSON.parse(t.out[0]!).pieces.join('')).toBe('▁the▁cat');
  });

  it('works end to end through the real bin: npx llmjp4 tokenize ... --json', () => {
    const stdout = execFileSync(
      'npx',
      ['llmjp4', 'tokenize', '--tokenizer', MODEL_PATH, '--text', '吾輩は猫である。', '--json'],
      { cwd: ROOT, encoding: 'utf8' },
    );
    const tok = llmjp4();
    expect(JSON.parse(stdout)).toEqual(tok.tokenize('吾輩は猫である。'));
    const text = execFileSync(
      'npx',
      ['llmjp4', 'detokenize', '--tokenizer', MODEL_PATH, '--ids', tok.encodeIds('吾輩は猫である。').join(','), '--json'],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(JSON.parse(text)).toEqual({ text: '吾輩は猫である。' });
  });
});
