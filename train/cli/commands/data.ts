// `llmjp4 data`: prepares the training data as a stage would (reads and splits the corpus, trains or loads
// the tokenizer, tokenizes through the cache) and prints what there is: documents and tokens per
// sub-corpus and split, and how fast tokenization ran when something was not cached.

import { parseArgs } from 'node:util';
import { docCount } from '../../data/token_cache.js';
import { prepareData, type PreparedData } from '../../data/prepare.js';

export const dataHelp =
  'prepare and describe the training data: tokens per sub-corpus and split [--tokenizer FILE --vocab-size N --corpus DIR --cache DIR --no-code --json]';

export async function dataCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      tokenizer: { type: 'string' },
      'vocab-size': { type: 'string' },
      corpus: { type: 'string' },
      cache: { type: 'string' },
      'no-code': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const vocab = values['vocab-size'];
  const vocabSize = vocab === undefined ? undefined : Number(vocab);
  if (vocabSize !== undefined && !(Number.isInteger(vocabSize) && vocabSize > 0))
    throw new Error(`--vocab-size must be a positive integer, got '${vocab}'`);
  const data = prepareData({
    tokenizer: values.tokenizer,
    vocabSize,
    corpusDir: values.corpus,
    cacheDir: values.cache,
    code: !values['no-code'],
    progress: !values.json,
    log: values.json ? undefined : (line) => console.error(line),
  });
  console.log(values.json ? JSON.stringify(describeData(data)) : formatData(data));
  return 0;
}

export interface DataSummary {
  tokenizer: string;
  vocabSize: number;
  subCorpora: Record<
    string,
    { kind: string; train: { docs: number; tokens: number }; valid: { docs: number; tokens: number }; assistantTokens?: number }
  >;
  /** Tokens per second of the tokenization this run did (null when everything was cached). */
  tokensPerSecond: number | null;
}

export function describeData(d: PreparedData): DataSummary {
  const subCorpora: DataSummary['subCorpora'] = {};
  for (const s of d.subCorpora) {
    subCorpora[s.name] = {
      kind: s.kind,
      train: { docs: docCount(s.train), tokens: s.train.ids.length },
      valid: { docs: docCount(s.valid), tokens: s.valid.ids.length },
      ...(s.train.mask ? { assistantTokens: s.train.mask.reduce((a, b) => a + b, 0) } : {}),
    };
  }
  const tokensPerSecond = d.tokenizedTokens > 0 && d.tokenizeSeconds > 0 ? d.tokenizedTokens / d.tokenizeSeconds : null;
  return { tokenizer: d.tokenizerPath, vocabSize: d.tokenizer.vocabSize, subCorpora, tokensPerSecond };
}

export function formatData(d: PreparedData): string {
  const s = describeData(d);
  const lines = [
    `tokenizer ${s.tokenizer} (${s.vocabSize} pieces)`,
    '',
    'sub-corpus   train docs  train tokens  valid docs  valid tokens',
  ];
  let total = 0;
  for (const [name, c] of Object.entries(s.subCorpora)) {
    total += c.train.tokens + c.valid.tokens;
    const note = c.assistantTokens === undefined ? '' : `  (chat format; ${c.assistantTokens} assistant tokens in train)`;
    lines.push(
      `${name.padEnd(10)}  ${String(c.train.docs).padStart(10)}  ${String(c.train.tokens).padStart(12)}  ${String(c.valid.docs).padStart(10)}  ${String(c.valid.tokens).padStart(12)}${note}`,
    );
  }
  lines.push(`${'total'.padEnd(10)}  ${''.padStart(10)}  ${String(total).padStart(12)}`);
  if (s.tokensPerSecond !== null)
    lines.push('', `tokenized ${d.tokenizedTokens} tokens at ${Math.round(s.tokensPerSecond)} tokens/s`);
  return lines.join('\n');
}
