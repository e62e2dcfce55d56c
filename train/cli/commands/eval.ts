// `llmjp4 eval --model DIR`: loads a Hugging Face-layout checkpoint, tokenizes the held-out split of the
// corpus with the model's tokenizer (DIR/tokenizer.model unless --tokenizer says otherwise), and prints
// validation loss and perplexity per sub-corpus and the multiple-choice accuracy (or all of it as JSON).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fromPretrained, loadConfig } from '../../../model/pretrained.js';
import { CHECKPOINT_TOKENIZER } from '../../checkpoint.js';
import { prepareData } from '../../data/prepare.js';
import { tokenizerFromFile } from '../../data/tokenizer_choice.js';
import { DEFAULT_EVAL_MAX_TOKENS, evaluate, type EvalReport } from '../../eval.js';
import { loadHelp, loadOption, loadOptions } from './load_flag.js';

export const evalHelp = `validation perplexity per sub-corpus and a multiple-choice check: --model DIR [--tokenizer FILE --corpus DIR --cache DIR --seq-len N --max-tokens N --batch N --no-code --json ${loadHelp}]`;

export async function evalCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      tokenizer: { type: 'string' },
      corpus: { type: 'string' },
      cache: { type: 'string' },
      'seq-len': { type: 'string' },
      'max-tokens': { type: 'string' },
      batch: { type: 'string' },
      'no-code': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      ...loadOption,
    },
  });
  const load = loadOptions(values);
  if (!values.model) throw new Error('--model DIR is required (a folder with config.json and model.safetensors)');
  const tokenizer = values.tokenizer ?? join(values.model, CHECKPOINT_TOKENIZER);
  if (!existsSync(tokenizer)) {
    throw new Error(
      values.tokenizer
        ? `--tokenizer ${tokenizer} does not exist`
        : `${values.model} has no ${CHECKPOINT_TOKENIZER}; pass --tokenizer FILE (the .model the checkpoint was trained with)`,
    );
  }
  // Check the pair before the slow steps: a tokenizer with ids past the embedding cannot be evaluated.
  const choice = tokenizerFromFile(tokenizer);
  const config = loadConfig(values.model);
  if (choice.tokenizer.vocabSize > config.vocab_size)
    throw new Error(`the tokenizer has ${choice.tokenizer.vocabSize} pieces but the model's vocab_size is ${config.vocab_size}`);
  const model = fromPretrained(values.model, load);
  const data = prepareData({
    tokenizer: choice,
    corpusDir: values.corpus,
    cacheDir: values.cache,
    splits: ['valid'],
    code: !values['no-code'],
    progress: !values.json,
  });
  const report = await evaluate(model, data, {
    seqLen: optionalInt(values['seq-len'], '--seq-len', 2),
    maxTokens: optionalInt(values['max-tokens'], '--max-tokens', 1) ?? DEFAULT_EVAL_MAX_TOKENS,
    batchSize: optionalInt(values.batch, '--batch', 1),
    progress: !values.json,
  });
  console.log(values.json ? JSON.stringify({ model: values.model, tokenizer, ...report }) : formatReport(report));
  return 0;
}

/** A table of losses per sub-corpus, then the multiple-choice accuracy overall and per language. */
export function formatReport(r: EvalReport): string {
  const names = Object.keys(r.subCorpora);
  const w = Math.max(10, ...names.map((n) => n.length));
  const lines = [`${'sub-corpus'.padEnd(w)}  ${'tokens'.padStart(7)}  ${'loss'.padStart(7)}  ${'perplexity'.padStart(10)}`];
  for (const n of names) {
    const s = r.subCorpora[n]!;
    const note = s.kind === 'instruct' ? '  (chat format, assistant tokens only)' : '';
    lines.push(
      `${n.padEnd(w)}  ${String(s.tokens).padStart(7)}  ${s.loss.toFixed(4).padStart(7)}  ${s.perplexity.toFixed(2).padStart(10)}${note}`,
    );
  }
  const mc = r.multipleChoice;
  if (mc) {
    const langs = Object.entries(mc.byLang).map(([l, v]) => `${l} ${pct(v.accuracy)} of ${v.items}`);
    lines.push('', `multiple choice: ${pct(mc.accuracy)} of ${mc.items.length} (${langs.join(', ')}; chance ${pct(mc.chance)})`);
  }
  return lines.join('\n');
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function optionalInt(s: string | undefined, flag: string, min: number): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < min) throw new Error(`${flag} must be an integer ≥ ${min}, got '${s}'`);
  return n;
}
