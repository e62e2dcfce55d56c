// `llmjp4 chat --model DIR`: a multi-turn conversation in the LLM-jp-4 chat format. Each line read from
// stdin is a user turn; the whole conversation is rendered with the chat template (model/tokenizer/chat.ts)
// and the reply streams as it is generated (chat_stream.ts: analysis dimmed, or hidden by --hide-analysis).
// `/reset` starts a new conversation; `/exit` or the end of input stops. Per-turn numbers go to stderr.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import type { CausalLM } from '../../../model/causal_lm.js';
import { eosTokens, generate } from '../../../model/generate.js';
import { fromPretrained, loadConfig } from '../../../model/pretrained.js';
import { renderChat, type ChatMessage, type ChatOptions } from '../../../model/tokenizer/chat.js';
import { Tokenizer } from '../../../model/tokenizer/index.js';
import { CHECKPOINT_TOKENIZER } from '../../checkpoint.js';
import { backendOption, useBackend } from './backend_flag.js';
import { ReplyPrinter } from './chat_stream.js';
import { loadHelp, loadOption, loadOptions } from './load_flag.js';

export const chatHelp =
  'chat with a checkpoint in the LLM-jp-4 chat format, one user turn per stdin line (/reset, /exit): --model DIR ' +
  `[--tokenizer FILE --system TEXT --reasoning low|medium|high --hide-analysis --max-new-tokens N --temperature T --top-p P --seed S ${loadHelp} --backend cpu|gpu]`;

export interface ChatSession {
  model: CausalLM;
  tok: Tokenizer;
  /** A developer message (the system instruction) opening every conversation. */
  system?: string;
  template?: ChatOptions;
  hideAnalysis?: boolean;
  sampling?: { maxNewTokens?: number; temperature?: number; topP?: number; seed?: number };
}

/** Run the conversation over `input` lines, writing replies to `out` and per-turn numbers to `log`. */
export async function runChat(s: ChatSession, input: Readable, out: Writable, log: Writable, prompt = false): Promise<number> {
  const stop = [
    ...new Set([...eosTokens(s.model.config), ...['<|return|>', '<|call|>'].map((n) => s.tok.special.nameToId.get(n)!)]),
  ];
  const opening: ChatMessage[] = s.system ? [{ role: 'developer', content: s.system }] : [];
  let messages: ChatMessage[] = [...opening];
  let turn = 0;
  const lines = createInterface({ input, crlfDelay: Infinity, terminal: false });
  if (prompt) out.write('> ');
  for await (const raw of lines) {
    const line = raw.trim();
    if (line === '/exit') break;
    if (line === '/reset') {
      messages = [...opening];
      log.write('[conversation reset]\n');
    } else if (line !== '') {
      messages.push({ role: 'user', content: line });
      const ids = renderChat(s.tok, messages, { ...s.template, addGenerationPrompt: true }).ids;
      const printer = new ReplyPrinter(s.tok, { hideAnalysis: s.hideAnalysis });
      const start = performance.now();
      const reply = await generate(s.model, ids, {
        maxNewTokens: 256,
        ...s.sampling,
        stopTokens: stop,
        onToken: (id) => void out.write(printer.push(id)),
      });
      out.write(`${printer.flush()}\n`);
      const secs = (performance.now() - start) / 1000;
      turn++;
      log.write(
        `[turn ${turn}: ${ids.length} prompt tokens, ${reply.length} new tokens, ${(reply.length / secs).toFixed(1)} tokens/s]\n`,
      );
      // The conversation keeps the answer only: the template drops earlier turns' analysis anyway.
      messages.push({ role: 'assistant', content: printer.answer });
    }
    if (prompt) out.write('> ');
  }
  return 0;
}

export async function chatCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      tokenizer: { type: 'string' },
      system: { type: 'string' },
      reasoning: { type: 'string', default: 'medium' },
      'hide-analysis': { type: 'boolean', default: false },
      'max-new-tokens': { type: 'string', default: '256' },
      temperature: { type: 'string', default: '0' },
      'top-p': { type: 'string', default: '1' },
      seed: { type: 'string', default: '0' },
      ...loadOption,
      ...backendOption,
    },
  });
  if (!values.model) throw new Error('--model DIR is required (a checkpoint folder)');
  const load = loadOptions(values);
  const tokPath = values.tokenizer ?? join(values.model, CHECKPOINT_TOKENIZER);
  if (!existsSync(tokPath))
    throw new Error(
      values.tokenizer
        ? `--tokenizer ${tokPath} does not exist`
        : `${values.model} has no ${CHECKPOINT_TOKENIZER}; pass --tokenizer FILE`,
    );
  const sampling = {
    maxNewTokens: int(values['max-new-tokens'], '--max-new-tokens'),
    temperature: Number(values.temperature),
    topP: Number(values['top-p']),
    seed: int(values.seed, '--seed'),
  };
  if (!(sampling.temperature >= 0)) throw new Error(`--temperature must be a number ≥ 0, got '${values.temperature}'`);
  return useBackend(values, async () => {
    // The pair is checked before the weights are read: a tokenizer with ids past the embedding cannot belong.
    const tok = Tokenizer.fromFile(tokPath);
    const config = loadConfig(values.model!);
    if (tok.vocabSize > config.vocab_size)
      throw new Error(`the tokenizer has ${tok.vocabSize} pieces but the model's vocab_size is ${config.vocab_size}`);
    const model = fromPretrained(values.model!, load);
    const session: ChatSession = {
      model,
      tok,
      system: values.system,
      template: { reasoningEffort: values.reasoning },
      hideAnalysis: values['hide-analysis'],
      sampling,
    };
    return runChat(session, process.stdin, process.stdout, process.stderr, process.stdin.isTTY === true);
  });
}

function int(s: string | undefined, flag: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be an integer ≥ 0, got '${s}'`);
  return n;
}
