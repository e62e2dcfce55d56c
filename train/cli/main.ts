// The `llmjp4` command line: one subcommand per task, each a function of its arguments returning an
// exit code. Later layers add commands here (tokenize, params, forward, generate, train, ...).

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { demo } from './demo/run.js';
import { trainCommand, trainHelp } from './commands/train.js';
import { startCommand, startHelp } from './commands/main_job.js';
import { forward, forwardHelp, params, paramsHelp } from './commands/model.js';
import { replayTrain, replayTrainHelp } from './commands/replay_train.js';
import { chatCommand, chatHelp } from './commands/chat.js';
import { dataCommand, dataHelp } from './commands/data.js';
import { evalCommand, evalHelp } from './commands/eval.js';
import { generateCommand, generateHelp } from './commands/generate.js';
import { initCommand, initHelp } from './commands/init.js';
import { quantizeCommand, quantizeHelp } from './commands/quantize.js';
import { serveCommand, serveHelp } from './commands/serve.js';
import { detokenize, detokenizeHelp, tokenize, tokenizeHelp, trainTokenizer, trainTokenizerHelp } from './commands/tokenize.js';

type Command = { run: (argv: string[]) => Promise<number>; help: string };

const COMMANDS: Record<string, Command> = {
  demo: {
    run: demo,
    help: 'train a character-level MLP on Japanese + English text and sample from it [--steps N --batch N --lr X --seed S --out DIR --backend cpu|gpu]',
  },
  tokenize: { run: tokenize, help: tokenizeHelp },
  detokenize: { run: detokenize, help: detokenizeHelp },
  'train-tokenizer': { run: trainTokenizer, help: trainTokenizerHelp },
  params: { run: params, help: paramsHelp },
  forward: { run: forward, help: forwardHelp },
  'replay-train': { run: replayTrain, help: replayTrainHelp },
  data: { run: dataCommand, help: dataHelp },
  eval: { run: evalCommand, help: evalHelp },
  start: { run: startCommand, help: startHelp },
  train: { run: trainCommand, help: trainHelp },
  generate: { run: generateCommand, help: generateHelp },
  chat: { run: chatCommand, help: chatHelp },
  init: { run: initCommand, help: initHelp },
  quantize: { run: quantizeCommand, help: quantizeHelp },
  serve: { run: serveCommand, help: serveHelp },
  version: { run: async () => (console.log(version()), 0), help: 'print the package version' },
  help: { run: async () => (console.log(usage()), 0), help: 'show this help' },
};

/** The version in this package's package.json (found upwards, so it works from source and from dist/). */
function version(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
    if (dirname(dir) === dir) return 'unknown';
  }
}

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.help}`);
  return ['usage: llmjp4 <command> [options]', '', 'commands:', ...lines].join('\n');
}

/** Run a command line (without the program name); returns the exit code. Errors print one clear line. */
export async function main(argv: string[]): Promise<number> {
  const [name = 'help', ...rest] = argv;
  const command = COMMANDS[name];
  if (!command) {
    console.error(`llmjp4: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    console.error(`llmjp4 ${name}: ${(e as Error).message}`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
