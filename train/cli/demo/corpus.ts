// Character-level data for the demo: the Japanese and English texts in train/data, a shared
// character vocabulary (rare characters map to one unknown id), and held-out tails for validation.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CORPUS_DIR } from '../../data/corpus.js';

// The recipe's corpus folder (found from package.json, so the compiled dist/ reads the same files).
const DATA = DEFAULT_CORPUS_DIR;

export const SOURCES = { ja: 'ja/soseki_botchan.txt', en: 'en/dickens_a_christmas_carol.txt' } as const;
export type Lang = keyof typeof SOURCES;

export interface CharCorpus {
  /** Vocabulary: id → character; id 0 is the unknown character. */
  chars: string[];
  ids: Map<string, number>;
  train: Record<Lang, Int32Array>;
  valid: Record<Lang, Int32Array>;
}

export const UNK = '\u2047'; // ⁇, shown for characters outside the vocabulary

/** Load both texts; characters seen fewer than `minCount` times become UNK; the last `validFrac` of each text is held out. */
export function loadCharCorpus(minCount = 10, validFrac = 0.05): CharCorpus {
  const texts = { ja: read(SOURCES.ja), en: read(SOURCES.en) };
  const counts = new Map<string, number>();
  for (const t of Object.values(texts)) for (const c of t) counts.set(c, (counts.get(c) ?? 0) + 1);
  const chars = [
    UNK,
    ...[...counts]
      .filter(([, n]) => n >= minCount)
      .map(([c]) => c)
      .sort(),
  ];
  const ids = new Map(chars.map((c, i) => [c, i]));
  const encode = (t: string) => Int32Array.from([...t], (c) => ids.get(c) ?? 0);
  const split = (t: string) => {
    const all = encode(t);
    const cut = Math.floor(all.length * (1 - validFrac));
    return [all.subarray(0, cut), all.subarray(cut)] as const;
  };
  const [jaTrain, jaValid] = split(texts.ja);
  const [enTrain, enValid] = split(texts.en);
  return { chars, ids, train: { ja: jaTrain, en: enTrain }, valid: { ja: jaValid, en: enValid } };
}

function read(name: string): string {
  // Collapse runs of blank lines: they are layout, not language.
  return readFileSync(join(DATA, name), 'utf8').replace(/\n{2,}/g, '\n');
}
