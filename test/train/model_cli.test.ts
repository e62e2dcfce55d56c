// The pinned model commands: `params` and `forward` print exactly the JSON outside checks read, with
// numbers that match Hugging Face's on the golden checkpoints.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { architecture } from '../../model/auto.js';
import { configToJSON, type ModelConfig } from '../../model/config.js';
import { preset } from '../../model/presets.js';
import { golden, GOLDEN } from '../helpers/golden.js';
import { runCli } from '../helpers/cli.js';

/** config.json as savePretrained writes it. */
const configJson = (c: ModelConfig) => configToJSON(c, architecture(c).name);

describe('llmjp4 params', () => {
  it('gives the real models exactly', async () => {
    expect(JSON.parse((await runCli('params', '--preset', 'llm-jp-4-8b', '--json')).out[0])).toEqual({
      total: 8_590_200_832,
      active: 8_590_200_832,
    });
    expect(JSON.parse((await runCli('params', '--preset', 'llm-jp-4-32b-a3b', '--json')).out[0])).toEqual({
      total: 32_139_028_992,
      active: 3_827_476_992,
    });
  });

  it('reads a config.json, and names bad input', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmjp4-params-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(configJson(preset('tiny-qwen3-moe'))));
    const { total, active } = JSON.parse((await runCli('params', '--config', file, '--json')).out[0]);
    expect(active).toBeLessThan(total);
    writeFileSync(file, JSON.stringify({ ...configJson(preset('tiny-llama')), hidden_act: 'gelu' }));
    const bad = await runCli('params', '--config', file, '--json');
    expect(bad.code).toBe(1);
    expect(bad.err[0]).toMatch(/hidden_act/);
    expect((await runCli('params', '--preset', 'nope')).err[0]).toMatch(/nope/);
    expect((await runCli('params')).err[0]).toMatch(/exactly one of --preset NAME or --config FILE/);
  });
});

describe('llmjp4 forward', () => {
  for (const variant of ['llama_tiny', 'qwen3moe_tiny']) {
    it(`${variant}: logits and losses equal HF's float32 run (case A, two rows)`, async () => {
      const g = golden(variant);
      const ids = g.t('A.input_ids').toArraySync() as number[][];
      const r = await runCli(
        'forward',
        '--model',
        join(GOLDEN, variant),
        '--ids',
        ids.map((row) => row.join(',')).join(';'),
        '--json',
      );
      expect(r.code).toBe(0);
      const got = JSON.parse(r.out[0]);
      expect(Object.keys(got).sort()).toEqual(['aux_loss', 'logits', 'loss', 'loss_total']);
      const ref = g.t('A.f32.logits').dataSync();
      const flat = (got.logits as number[][][]).flat(2);
      expect(flat.length).toBe(ref.length);
      const scale = Math.max(...Array.from(ref, Math.abs));
      expect(Math.max(...flat.map((x, i) => Math.abs(x - ref[i]))) / scale).toBeLessThan(1e-5);
      const s = g.json.scalars.A.f32;
      expect(Math.abs(got.loss - s.loss) / s.loss).toBeLessThan(1e-5);
      if (variant === 'llama_tiny') expect([got.aux_loss, got.loss_total]).toEqual([0, got.loss]);
      else {
        expect(Math.abs(got.aux_loss - s.aux_loss) / s.aux_loss).toBeLessThan(1e-5);
        expect(Math.abs(got.loss_total - s.loss_total) / s.loss_total).toBeLessThan(1e-5);
        expect(got.loss_total).toBeCloseTo(got.loss + g.config.router_aux_loss_coef * got.aux_loss, 6); // summed in float32;
      }
    });
  }

  it('names bad ids, ragged rows, a missing model and an unknown backend', async () => {
    const model = join(GOLDEN, 'llama_tiny');
    expect((await runCli('forward', '--model', model, '--ids', '1,2;3')).err[0]).toMatch(/equal lengths, got 2, 1/);
    expect((await runCli('forward', '--model', model, '--ids', '1,x')).err[0]).toMatch(/'x' in row 0 is not a token id/);
    expect((await runCli('forward', '--model', model, '--ids', '1,256')).err[0]).toMatch(
      /token 256 is outside the vocabulary \[0, 256\)/,
    );
    expect((await runCli('forward', '--model', '/nonexistent', '--ids', '1,2')).err[0]).toMatch(/has no config\.json/);
    expect((await runCli('forward', '--model', model, '--ids', '1,2', '--backend', 'tpu')).err[0]).toMatch(
      /--backend must be cpu or gpu, got 'tpu'/,
    );
  });
});
