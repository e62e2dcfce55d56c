// `llmjp4 data` on the small corpus: it prepares the data and reports documents and tokens per
// sub-corpus and split, as a table and as JSON, with the counts of the prepared data.
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../../../train/cli/main.js';
import { describeData, formatData } from '../../../../train/cli/commands/data.js';
import { prepareData } from '../../../../train/data/prepare.js';
import { smallCorpus, SMALL } from '../../data/fixture.js';

describe('llmjp4 data', () => {
  it('describes the prepared data per sub-corpus and split', async () => {
    const { corpusDir, cacheDir } = smallCorpus();
    const data = prepareData({ corpusDir, cacheDir, ...SMALL });
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(
      await main(['data', '--corpus', corpusDir, '--cache', cacheDir, '--tokenizer', data.tokenizerPath, '--no-code', '--json']),
    ).toBe(0);
    const json = JSON.parse(log.mock.calls.at(-1)![0] as string);
    // The command uses the default document size and split; the same data prepared directly has the same counts.
    const direct = describeData(prepareData({ corpusDir, cacheDir, tokenizer: data.tokenizerPath, code: false }));
    expect(json.subCorpora).toEqual(direct.subCorpora);
    expect(json.vocabSize).toBe(1000);
    expect(Object.keys(json.subCorpora)).toEqual(['en', 'ja', 'sft']);
    expect(json.subCorpora.sft.assistantTokens).toBeGreaterThan(0);
    expect(json.subCorpora.sft.assistantTokens).toBeLessThan(json.subCorpora.sft.train.tokens);
    expect(formatData(data)).toMatch(
      /^tokenizer .*\(1000 pieces\)\n\nsub-corpus +train docs +train tokens +valid docs +valid tokens\nen +\d+ +\d+ +\d+ +\d+\n/,
    );
    expect(await main(['data', '--vocab-size', 'x'])).toBe(1);
    expect(err.mock.calls.at(-1)![0]).toMatch(/--vocab-size must be a positive integer, got 'x'/);
    log.mockRestore();
    err.mockRestore();
  });
});
