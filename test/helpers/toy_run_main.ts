// Child process for the kill test: `node --import tsx test/helpers/toy_run_main.ts ROOT KIND UNTIL` trains
// the toy run with a checkpoint after every step (resuming from ROOT's newest), printing `step N` lines.
import { toyRun, type ToyKind } from './toy_run.js';

const [root, kind, until] = process.argv.slice(2);
await toyRun(root!, {
  kind: kind as ToyKind,
  until: Number(until),
  saveEvery: 1,
  keepLast: 2,
  onStep: (s) => process.stdout.write(`step ${s}\n`),
});
