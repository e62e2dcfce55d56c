// SentencePiece's normalizer for models without a character map (normalizer.cc, `identity`): optional
// trimming of extra spaces, the dummy-prefix space, and spaces escaped as ▁ (U+2581). Characters are
// otherwise left alone: no NFKC, and tab, newline and U+3000 stay as they are. Models with a
// precompiled charsmap (nmt_nfkc, ...) are refused when they load (model_proto.ts).

import type { ResolvedOptions } from './model_proto.js';

/** The whitespace symbol SentencePiece writes for U+0020. */
export const SPACE_SYMBOL = '\u2581';

/** Text as the Viterbi sees it: `"a  b"` → `"▁a▁▁b"` (LLM-jp-4's options), `""` → `""`. */
export function normalize(text: string, opts: ResolvedOptions): string {
  let s = text;
  if (opts.removeExtraWhitespaces) {
    // Only U+0020 counts as a space here, as in SentencePiece without a charsmap.
    s = s.replace(/^ +| +$/g, '').replace(/ {2,}/g, ' ');
  }
  if (s === '') return '';
  if (opts.addDummyPrefix) s = ` ${s}`;
  return opts.escapeWhitespaces ? s.replaceAll(' ', SPACE_SYMBOL) : s;
}
