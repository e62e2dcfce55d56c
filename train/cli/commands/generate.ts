// The `generate` command of the `llmjp4` CLI: load a checkpoint folder (HF layout), then continue a
// prompt, streaming to stdout as tokens come. With --prompt the text is encoded by the LLM-jp-4
// tokenizer (BOS added, special-token names recognised, as HF's tokenizer does) and the continuation is
// printed as text; with --ids the prompt is ids and the new ids are printed comma-separated.
// Greedy unless --temperature > 0. A summary (tokens, tokens/s) goes to stderr. --dtype/--quantize choose
// how weights are held (load_flag.ts); --json ends stdout with one JSON object of ids, text and timings.

import { parseArgs } from 'node:util';
import { eosTokens, generate } from '../../../model/generate.js';
import { checkKvCacheFits } from '../../../model/io/model_memory.js';
import { fromPretrained, loadConfig, weightsBytes } from '../../../model/pretrained.js';
import { TextStreamer } from '../../../model/text_streamer.js';
import { Tokenizer } from '../../../model/tokenizer/index.js';
import { backendOption, useBackend } from './backend_flag.js';
import { loadHelp, loadOption, loadOptions } from './load_flag.js';

const backendHelp = '--backend cpu|gpu';

export const generateHelp =
  'continue a prompt with a checkpoint, streaming: --model DIR (--prompt TEXT --tokenizer FILE | --ids "1,2,3") ' +
  `[--max-new-tokens N --temperature T --top-k K --top-p P --repetition-penalty R --seed S --stop "2,4" ${loadHelp} --echo --json ${backendHelp}]`;

const OPTIONS = {
  model: { type: 'string' },
  prompt: { type: 'string' },
  tokenizer: { type: 'string' },
  ids: { type: 'string' },
  'max-new-tokens': { type: 'string', default: '32' },
  temperature: { type: 'string', default: '0' },
  'top-k': { type: 'string', default: '0' },
  'top-p': { type: 'string', default: '1' },
  'repetition-penalty': { type: 'string', default: '1' },
  seed: { type: 'string', default: '0' },
  stop: { type: 'string' },
  ...loadOption,
  echo: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  ...backendOption,
} as const;

const parse = (argv: string[]) => parseArgs({ args: argv, options: OPTIONS }).values;
type GenerateValues = ReturnType<typeof parse>;

export async function generateCommand(argv: string[]): Promise<number> {
  const values = parse(argv);
  return useBackend(values, () => run(values));
}

async function run(values: GenerateValues): Promise<number> {
  if (!values.model) throw new Error('--model DIR is required (a folder with config.json and model.safetensors)');
  if ((values.prompt === undefined) === (values.ids === undefined))
    throw new Error('give exactly one of --prompt TEXT (with --tokenizer FILE) or --ids "1,2,3"');
  if (values.prompt !== undefined && !values.tokenizer)
    throw new Error('--prompt needs --tokenizer FILE (a SentencePiece .model file)');
  const load = loadOptions(values);
  const opts = {
    maxNewTokens: integer(values['max-new-tokens'], '--max-new-tokens', 0),
    temperature: number(values.temperature, '--temperature'),
    topK: integer(values['top-k'], '--top-k', 0),
    topP: number(values['top-p'], '--top-p'),
    repetitionPenalty: number(values['repetition-penalty'], '--repetition-penalty'),
    seed: integer(values.seed, '--seed', 0),
  };

  // The pair and the KV cache are checked before the weights are read. A model's vocabulary may be padded
  // past the tokenizer's (HF pads to a multiple of 64 or 128); a tokenizer with ids past the embedding
  // cannot belong to it (its text decoded to ',,,,').
  const config = loadConfig(values.model);
  const tok = values.tokenizer ? Tokenizer.fromFile(values.tokenizer) : undefined;
  if (tok && tok.vocabSize > config.vocab_size)
    throw new Error(
      `the tokenizer has ${tok.vocabSize} pieces but the model's vocab_size is ${config.vocab_size}: they do not belong together`,
    );
  const prompt =
    values.prompt !== undefined ? tok!.encode(values.prompt, { allowSpecial: true }) : parseIdList(values.ids!, '--ids');
  // generate() reserves the whole KV cache up front (prompt + new tokens): refuse one that cannot fit.
  checkKvCacheFits(config, prompt.length + opts.maxNewTokens, load.dtype === 'float64' ? 'float64' : 'float32');
  const model = fromPretrained(values.model, load);
  const stopTokens = values.stop !== undefined ? parseIdList(values.stop, '--stop') : eosTokens(model.config);

  const write = (s: string) => void (s && process.stdout.write(s));
  let onToken: (id: number) => void;
  let finish: () => void;
  if (values.prompt !== undefined) {
    const streamer = new TextStreamer(tok!, prompt);
    if (values.echo) write(tok!.decode(prompt));
    onToken = (id) => write(streamer.push(id));
    finish = () => write(`${streamer.flush()}\n`);
  } else {
    let first = !values.echo;
    if (values.echo) write(prompt.join(','));
    onToken = (id) => {
      write(`${first ? '' : ','}${id}`);
      first = false;
    };
    finish = () => write('\n');
  }
  const start = performance.now();
  // The first token comes out of the prefill; the rest are decode steps, timed from it.
  let first: number | undefined;
  const timed = (id: number) => {
    first ??= performance.now();
    onToken(id);
  };
  const ids = await generate(model, prompt, { ...opts, stopTokens, onToken: timed });
  finish();
  const end = performance.now();
  const s = (end - start) / 1000;
  process.stderr.write(
    `[${ids.length} new tokens after ${prompt.length} in ${s.toFixed(2)} s, ${(ids.length / s).toFixed(1)} tokens/s]\n`,
  );
  if (values.json) {
    const decodeS = first === undefined ? 0 : (end - first) / 1000;
    const summary = {
      ids,
      text: tok ? tok.decode(ids) : null,
      prompt_tokens: prompt.length,
      new_tokens: ids.length,
      prefill_s: ((first ?? end) - start) / 1000,
      decode_tokens_per_s: ids.length > 1 && decodeS > 0 ? (ids.length - 1) / decodeS : 0,
      weights_bytes: weightsBytes(model),
      peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
    };
    write(`${JSON.stringify(summary)}\n`);
  }
  return 0;
}

/** "1,2,3", "1 2 3" or "[1, 2, 3]" → [1, 2, 3]; "" → []. */
export function parseIdList(s: string, flag: string): number[] {
  const parts = s
    .replace(/^\s*\[|\]\s*$/g, '')
    .split(/[\s,]+/)
    .filter((p) => p !== '');
  return parts.map((p) => {
    if (!/^\d+$/.test(p)) throw new Error(`${flag}: '${p}' is not a token id (expected e.g. "1,2,3")`);
    return Number(p);
  });
}

function number(s: string | undefined, flag: string): number {
  const n = Number(s);
  if (s === undefined || s.trim() === '' || !Number.isFinite(n)) throw new Error(`${flag} must be a number, got '${s}'`);
  return n;
}

function integer(s: string | undefined, flag: string, min: number): number {
  const n = number(s, flag);
  if (!Number.isInteger(n) || n < min) throw new Error(`${flag} must be an integer ≥ ${min}, got '${s}'`);
  return n;
}
