// The main job end to end in smoke size (`llmjp4 start --quick` on the small test corpus): three stages
// chained through their final folders, a summary of validation before → after, samples streamed from
// the pre-trained and the SFT model, and the pointers to the model and plots. Re-running resumes (every
// stage already finished is skipped, and the numbers are the same).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../train/cli/main.js';
import { mainJobStages } from '../../train/cli/commands/main_job.js';
import { smallCorpus } from './data/fixture.js';

async function run(argv: string[]): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((s) => void chunks.push(String(s) + '\n'));
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (chunks.push(String(s)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return { code: await main(argv), out: chunks.join('') };
  } finally {
    log.mockRestore();
    write.mockRestore();
    err.mockRestore();
  }
}

describe('the main job', () => {
  it('stage configs chain: mid-training starts from pre-training, SFT from mid-training', () => {
    const [pre, mid, sft] = mainJobStages('moe', 'runs/x');
    expect(pre!.model?.preset).toBe('tiny-qwen3-moe');
    expect(mid!.init_from).toBe(join('runs/x', 'pretrain', 'final'));
    expect(sft!.init_from).toBe(join('runs/x', 'midtrain', 'final'));
    expect([pre!.stage, mid!.stage, sft!.stage]).toEqual(['pretrain', 'midtrain', 'sft']);
    expect(pre!.moe.z_loss_coef).toBe(1e-3);
  });

  for (const arch of ['llama', 'moe']) {
    it(`${arch}: --quick runs the three stages, prints the summary and samples, and resumes`, async () => {
      const { corpusDir, cacheDir } = smallCorpus();
      const out = join(cacheDir, '..', `main-${arch}`);
      const first = await run(['start', '--arch', arch, '--quick', '--out', out, '--corpus', corpusDir]);
      expect(first.code).toBe(0);
      expect(first.out).toMatch(/== validation loss per sub-corpus/);
      expect(first.out).toMatch(/pretrain\s+en \d+\.\d\d → \d+\.\d\d/);
      expect(first.out).toMatch(/\[pre-trained\] 吾輩は/);
      expect(first.out).toMatch(/\[SFT chat\] 日本の首都はどこですか？/);
      for (const s of ['pretrain', 'midtrain', 'sft']) expect(existsSync(join(out, s, 'final', 'model.safetensors'))).toBe(true);
      if (arch === 'moe') expect(existsSync(join(out, 'pretrain', 'experts.svg'))).toBe(true);
      const again = await run(['start', '--arch', arch, '--quick', '--out', out, '--corpus', corpusDir]);
      expect(again.out.replace(/done in .*/g, '').replace(/\(\d+ tokens\/s\)/g, '')).toBe(
        first.out.replace(/done in .*/g, '').replace(/\(\d+ tokens\/s\)/g, ''),
      );
    }, 120_000);
  }
});
