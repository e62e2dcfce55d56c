// The package as a user gets it: pack this repository (prepack builds dist/), install the tarball into a
// fresh folder outside it, typecheck a consumer there (test/package/app: strict, module nodenext, our
// .d.ts checked too) and run it — a user-defined op through core/testing, a few training steps — then
// run the installed `llmjp4` bin. Run by .ci/run on each Node line (whichever `node` is first on PATH):
//   npx tsx test/package/consumer.ts [--tarball FILE] [--keep]
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
const APP = join(REPO, 'test', 'package', 'app');

/** What `llmjp4 params --preset llm-jp-4-8b --json` prints (model/README.md works the count out). */
const PARAMS_8B = { total: 8590200832, active: 8590200832 };

/** Run a command in `cwd`, its output shown as it comes; returns stdout when `capture` is set. */
function run(cwd: string, cmd: string, args: string[], capture = false): string {
  console.log(`$ ${cmd} ${args.join(' ')}`);
  const out = execFileSync(cmd, args, { cwd, stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'], encoding: 'utf8' });
  return out ?? '';
}

/** Pack the repository into `dir` (runs prepack, i.e. the build); returns the tarball's path. */
function pack(dir: string): string {
  const out = run(REPO, 'npm', ['pack', '--json', '--pack-destination', dir], true);
  // The JSON comes last: anything the build printed to stdout comes before it.
  const [info] = JSON.parse(out.slice(out.indexOf('[\n'))) as { filename: string }[];
  return join(dir, info!.filename);
}

function main(): void {
  const { values } = parseArgs({ options: { tarball: { type: 'string' }, keep: { type: 'boolean', default: false } } });
  const dir = mkdtempSync(join(tmpdir(), 'llmjp4-consumer-'));
  try {
    const tarball = values.tarball === undefined ? pack(dir) : resolve(values.tarball);
    const node = run(dir, 'node', ['--version'], true).trim();
    console.log(`consumer on Node ${node}, in ${dir}`);

    // The consumer's own project: ESM, the tarball, the repository's TypeScript and this Node's types.
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
    for (const f of readdirSync(APP)) copyFileSync(join(APP, f), join(dir, f));
    const repoPkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    const types = `@types/node@${node.slice(1).split('.')[0]}`;
    const typescript = `typescript@${repoPkg.devDependencies.typescript}`;
    run(dir, 'npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, typescript, types]);

    run(dir, 'npx', ['tsc', '-p', 'tsconfig.json']);
    run(dir, 'node', ['main.js']);

    const params = JSON.parse(run(dir, 'npx', ['llmjp4', 'params', '--preset', 'llm-jp-4-8b', '--json'], true)) as unknown;
    if (JSON.stringify(params) !== JSON.stringify(PARAMS_8B))
      throw new Error(`llmjp4 params printed ${JSON.stringify(params)}, expected ${JSON.stringify(PARAMS_8B)}`);
    console.log(`(c) npx llmjp4 params --preset llm-jp-4-8b --json: ${JSON.stringify(params)}`);
    console.log(`consumer test passed on Node ${node}`);
  } finally {
    if (values.keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main();
