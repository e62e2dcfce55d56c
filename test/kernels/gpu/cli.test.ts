// `llmjp4 forward --backend gpu --gpu-mode M` in every gpu.js mode that works here: it says on stderr
// which mode runs, and prints the logits and losses that `--backend cpu` prints (within float32
// tolerance); a mode or flag that cannot work is a clear one-line error.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GPU_MODES } from '../../../kernels/gpu/index.js';
import { GOLDEN } from '../../helpers/golden.js';
import { available, GOLDEN_TOL, MODES } from './harness.js';
import { runCli } from '../../helpers/cli.js';

interface Forward {
  logits: number[][][];
  loss: number;
  aux_loss: number;
  loss_total: number;
}

const forward = (variant: string, ...flags: string[]) =>
  runCli('forward', '--model', join(GOLDEN, variant), '--ids', '1,2,3;7,5,4', '--json', ...flags);

/** max|x − ref| / max|ref| over the logits, and the losses relative to the CPU's. */
function expectClose(got: Forward, ref: Forward, label: string): void {
  const [g, r] = [got.logits.flat(2), ref.logits.flat(2)];
  expect(g.length, label).toBe(r.length);
  const scale = Math.max(...r.map(Math.abs));
  expect(Math.max(...g.map((x, i) => Math.abs(x - r[i]!))) / scale, `${label} logits`).toBeLessThan(GOLDEN_TOL.activations);
  for (const k of ['loss', 'aux_loss', 'loss_total'] as const) {
    expect(Math.abs(got[k] - ref[k]), `${label} ${k}`).toBeLessThanOrEqual(GOLDEN_TOL.loss * Math.abs(ref[k]));
  }
}

for (const mode of GPU_MODES) {
  const reason = MODES[mode] === true ? '' : ` — skipped: ${MODES[mode]}`;
  describe.skipIf(!available(mode))(`${mode}${reason}`, () => {
    for (const variant of ['llama_tiny', 'qwen3moe_tiny']) {
      it(`llmjp4 forward ${variant} --backend gpu --gpu-mode ${mode} = --backend cpu, and says which mode runs`, async () => {
        const gpu = await forward(variant, '--backend', 'gpu', '--gpu-mode', mode);
        expect(gpu.code, gpu.err.join('\n')).toBe(0);
        expect(gpu.err).toEqual([`llmjp4: backend gpu:${mode}`]);
        const cpu = await forward(variant, '--backend', 'cpu');
        expect(cpu.err).toEqual([]);
        expectClose(JSON.parse(gpu.out[0]!) as Forward, JSON.parse(cpu.out[0]!) as Forward, `${variant} on gpu:${mode}`);
      });
    }
  });
}

it('names a gpu mode that does not exist, --gpu-mode without the gpu backend, and float64 on the gpu', async () => {
  const model = join(GOLDEN, 'llama_tiny');
  expect((await runCli('forward', '--model', model, '--ids', '1,2', '--backend', 'gpu', '--gpu-mode', 'metal')).err[0]).toMatch(
    /backend: unknown gpu mode 'metal'/,
  );
  expect((await runCli('forward', '--model', model, '--ids', '1,2', '--gpu-mode', 'webasm')).err[0]).toMatch(
    /--gpu-mode applies only to --backend gpu/,
  );
  if (available('cpu')) {
    const r = await runCli(
      'forward',
      '--model',
      model,
      '--ids',
      '1,2',
      '--backend',
      'gpu',
      '--gpu-mode',
      'cpu',
      '--dtype',
      'float64',
    );
    expect([r.code, r.err.at(-1)]).toEqual([1, expect.stringMatching(/gpu: float64 tensors are not supported/)]);
  }
});
