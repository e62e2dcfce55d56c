// The tokenizer commands of the `llmjp4` CLI: `tokenize`, `detokenize` and `train-tokenizer`. The
// JSON they print with --json (and with --jsonl) is a pinned interface: ids and pieces exactly as
// SentencePiece's `encode` returns them (no BOS/EOS), text exactly as its `decode` does.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Tokenizer } from '../../../model/tokenizer/index.js';
import { trainFromDir, writeModel } from '../../../model/tokenizer/trainer.js';

export const tokenizeHelp = 'SentencePiece-encode text: --tokenizer FILE (--text TEXT [--json] | --jsonl IN)';
export const detokenizeHelp = 'decode ids to text: --tokenizer FILE --ids "1,2,3" [--json]';
export const trainTokenizerHelp =
  'train a Unigram tokenizer: --input DIR --vocab-size N --out FILE [--max-bytes N --character-coverage X --quiet]';

export async function tokenize(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      tokenizer: { type: 'string' },
      text: { type: 'string' },
      jsonl: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const tok = loadTokenizer(values.tokenizer);
  if ((values.text === undefined) === (values.jsonl === undefined))
    throw new Error('give exactly one of --text TEXT or --jsonl FILE');
  if (values.jsonl !== undefined) {
    const lines = readFileSync(values.jsonl, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      const text = parseJsonString(line, `${values.jsonl} line ${i + 1}`);
      const { ids, pieces } = tok.tokenize(text);
      console.log(JSON.stringify({ ids, pieces, decoded: tok.decode(ids) }));
    });
    return 0;
  }
  const { ids, pieces } = tok.tokenize(values.text!);
  if (values.json) console.log(JSON.stringify({ ids, pieces }));
  else {
    console.log(`${ids.length} tokens`);
    ids.forEach((id, i) => console.log(`${String(id).padStart(7)}  ${JSON.stringify(pieces[i])}`));
  }
  return 0;
}

export async function detokenize(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { tokenizer: { type: 'string' }, ids: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const tok = loadTokenizer(values.tokenizer);
  if (values.ids === undefined) throw new Error('--ids "1,2,3" is required');
  const ids = parseIds(values.ids);
  const text = tok.decode(ids);
  console.log(values.json ? JSON.stringify({ text }) : text);
  return 0;
}

export async function trainTokenizer(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      input: { type: 'string' },
      'vocab-size': { type: 'string' },
      out: { type: 'string' },
      'max-bytes': { type: 'string' },
      'character-coverage': { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
  });
  if (!values.input || !values.out || !values['vocab-size'])
    throw new Error('--input DIR, --vocab-size N and --out FILE are required');
  const vocabSize = positiveNumber(values['vocab-size'], '--vocab-size');
  const maxBytes = values['max-bytes'] === undefined ? undefined : positiveNumber(values['max-bytes'], '--max-bytes');
  const coverage =
    values['character-coverage'] === undefined ? undefined : positiveNumber(values['character-coverage'], '--character-coverage');
  const start = performance.now();
  const log = values.quiet
    ? undefined
    : (line: string) => console.log(`[${((performance.now() - start) / 1000).toFixed(1)}s] ${line}`);
  const model = trainFromDir(values.input, { vocabSize, maxBytes, characterCoverage: coverage, log });
  writeModel(values.out, model);
  // Load what was written, so a file that does not load is never reported as a success.
  const tok = Tokenizer.fromFile(values.out);
  console.log(`wrote ${values.out}: ${tok.vocabSize} pieces in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  return 0;
}

function loadTokenizer(path: string | undefined): Tokenizer {
  if (!path) throw new Error('--tokenizer FILE is required (a SentencePiece .model file)');
  return Tokenizer.fromFile(path);
}

function parseJsonString(line: string, where: string): string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new Error(`${where} is not JSON: ${line.slice(0, 60)}`);
  }
  if (typeof v !== 'string') throw new Error(`${where} is a JSON ${v === null ? 'null' : typeof v}, expected a string`);
  return v;
}

/** "1,2,3", "1 2 3" or "[1, 2, 3]" → [1, 2, 3]. */
function parseIds(s: string): number[] {
  const parts = s
    .replace(/^\s*\[|\]\s*$/g, '')
    .split(/[\s,]+/)
    .filter((p) => p !== '');
  return parts.map((p) => {
    if (!/^-?\d+$/.test(p)) throw new Error(`--ids: '${p}' is not an integer (expected e.g. "1,2,3")`);
    return Number(p);
  });
}

function positiveNumber(s: string, flag: string): number {
  const n = Number(s);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} must be a positive number, got '${s}'`);
  return n;
}
