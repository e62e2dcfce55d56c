// The main job (`npm start`, `npx llmjp4 start [--arch llama|moe]`): the LLM-jp-4 recipe at toy scale on
// this machine — pre-train a tiny model on the weighted mixture, mid-train it on that mixture mixed with
// instruction text, instruction-tune it in the chat format — then sample Japanese and English from it and
// say where the checkpoints and plots are. The stages are the JSON files in train/configs/<arch>/; each
// can also run alone with `llmjp4 train --config FILE`. Re-running resumes where a killed run stopped.

import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { generate } from '../../../model/generate.js';
import { fromPretrained } from '../../../model/pretrained.js';
import { TextStreamer } from '../../../model/text_streamer.js';
import { parseReply, renderChat } from '../../../model/tokenizer/index.js';
import { tokenizerFromFile } from '../../data/tokenizer_choice.js';
import { CHECKPOINT_TOKENIZER } from '../../checkpoint.js';
import { SFT_CHAT_OPTIONS } from '../../data/sft.js';
import { runStage, type StageResult } from '../../stage.js';
import { readStageConfig, type StageConfig } from '../../stage_config.js';
import { clock } from '../../progress.js';
import { backendOption, useBackend } from './backend_flag.js';

export const startHelp =
  'the main job: pre-train, mid-train and SFT a tiny LLM-jp-4 model, then generate [--arch llama|moe] [--out DIR] [--fresh] [--quick] [--backend cpu|gpu]';

const CONFIGS = join(dirname(fileURLToPath(import.meta.url)), '../../configs');
const STAGES = ['pretrain', 'midtrain', 'sft'] as const;

/** The three stage configs of an architecture, re-rooted under `out` (and shrunk with `quick`). */
export function mainJobStages(arch: 'llama' | 'moe', out: string, quick = false, corpusDir?: string): StageConfig[] {
  return STAGES.map((name) => {
    const cfg = readStageConfig(join(CONFIGS, arch, `${name}.json`));
    cfg.out = join(out, name);
    if (cfg.init_from) cfg.init_from = join(out, STAGES[STAGES.indexOf(name) - 1]!, 'final');
    if (corpusDir)
      cfg.data = {
        ...cfg.data,
        corpus_dir: corpusDir,
        cache_dir: join(out, 'cache'),
        vocab_size: 1000,
        code: false,
        doc_chars: 500,
        valid_fraction: 0.2,
      };
    if (quick) {
      // A smoke run: the same code path in seconds (tests), not a model worth sampling.
      Object.assign(cfg, { steps: 3, batch_size: 2, seq_len: 64 });
      cfg.schedule = { kind: 'constant', peakLr: cfg.optimizer.lr, warmupSteps: 1 };
      cfg.eval = { every: 3, max_tokens: 256 };
      cfg.checkpoint = { every: 3, keep_last: 1 };
      if (cfg.model)
        cfg.model.config = {
          hidden_size: 32,
          intermediate_size: 64,
          moe_intermediate_size: 16,
          num_hidden_layers: 1,
          head_dim: 8,
          ...cfg.model.config,
        };
    }
    return cfg;
  });
}

export async function startCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      arch: { type: 'string', default: 'llama' },
      out: { type: 'string' },
      fresh: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      corpus: { type: 'string' },
      ...backendOption,
    },
  });
  if (values.arch !== 'llama' && values.arch !== 'moe') throw new Error(`--arch must be llama or moe, got '${values.arch}'`);
  const arch = values.arch;
  const out = values.out ?? `runs/main-${arch}`;
  if (values.fresh) rmSync(out, { recursive: true, force: true });
  const stages = mainJobStages(arch, out, values.quick, values.corpus);
  return useBackend(values, async () => {
    const t0 = performance.now();
    const results: StageResult[] = [];
    for (const cfg of stages) {
      console.log(`\n== ${cfg.stage} (${cfg.steps} steps of ${cfg.batch_size}×${cfg.seq_len} tokens) → ${cfg.out}`);
      // Resume is always on: a finished stage is skipped, a killed one continues from its last checkpoint.
      results.push(await runStage(cfg, { resume: true }));
    }
    console.log(`\n== validation loss per sub-corpus (nats/token), before → after each stage`);
    for (const r of results) {
      const line = Object.keys(r.validAfter ?? {}).map(
        (k) => `${k} ${r.validBefore[k]?.toFixed(2)} → ${r.validAfter![k]!.toFixed(2)}`,
      );
      console.log(`${r.out.split('/').at(-1)!.padEnd(9)} ${line.join(', ')}   (${Math.round(r.tokensPerSecond)} tokens/s)`);
    }
    const sft = results.at(-1)!.final!;
    await samples(results[0]!.final!, sft);
    console.log(
      `\ndone in ${clock((performance.now() - t0) / 1000)}. The model: ${sft} (HF layout: config.json, model.safetensors, tokenizer.model)`,
    );
    console.log(
      `plots: ${stages.map((s) => join(s.out, 'loss.svg')).join(', ')}${arch === 'moe' ? `, ${join(stages[0]!.out, 'experts.svg')}` : ''}`,
    );
    console.log(
      `try: npx llmjp4 generate --model ${sft} --tokenizer ${join(sft, CHECKPOINT_TOKENIZER)} --prompt "こんにちは" --temperature 0.8 --top-p 0.9`,
    );
    return 0;
  });
}

/** Text continuations from the pre-trained model and chat replies from the SFT model, streamed as they come. */
async function samples(pretrained: string, sft: string): Promise<void> {
  const tok = tokenizerFromFile(join(sft, CHECKPOINT_TOKENIZER)).tokenizer;
  // Stop at the end of a document or of the assistant's turn (<|return|>, <|end|>).
  const opts = {
    maxNewTokens: 48,
    temperature: 0.8,
    topP: 0.9,
    repetitionPenalty: 1.1,
    seed: 0,
    stopTokens: [tok.eosId, tok.pieceToId('<|end|>')],
  };
  // Each model is loaded once for all its samples.
  const [pre, chatModel] = [fromPretrained(pretrained), fromPretrained(sft)];
  const stream = async (prompt: number[], shown: string) => {
    const streamer = new TextStreamer(tok, prompt);
    process.stdout.write(`\n[pre-trained] ${shown}`);
    await generate(pre, prompt, { ...opts, onToken: (id) => process.stdout.write(streamer.push(id)) });
    process.stdout.write(streamer.flush() + '\n');
  };
  // A chat reply is read as the chat format says: the text of the `final` channel, without the markup
  // tokens around it (<|channel|>final<|message|> … <|return|>).
  const chat = async (question: string) => {
    const prompt = renderChat(tok, [{ role: 'user', content: question }], { ...SFT_CHAT_OPTIONS, addGenerationPrompt: true }).ids;
    const ids = await generate(chatModel, prompt, opts);
    const reply = parseReply(tok, ids);
    console.log(`\n[SFT chat] ${question}\n  → ${reply.content ?? `(no final channel) ${tok.decode(ids)}`}`);
  };
  console.log(`\n== samples (temperature ${opts.temperature}, top-p ${opts.topP}, seed ${opts.seed})`);
  for (const text of ['吾輩は', 'It was a dark and']) await stream([tok.bosId, ...tok.encode(text)], text); // documents start with <|startoftext|>
  for (const question of ['日本の首都はどこですか？', 'Give three tips for staying healthy.']) await chat(question);
}
