// SFT examples: the chat render of an instruction record, whose mask covers exactly the assistant's
// reply — decoding the masked tokens gives `<|channel|>final<|message|>{output}<|return|>` — checked with
// the real LLM-jp-4 tokenizer; the labels and the right-padding that SFT batches use.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkProperty } from '../../../core/testing/index.js';
import { Tokenizer } from '../../../model/tokenizer/index.js';
import { instructionMessages, maskedLabels, padRows, renderInstruction, SFT_CHAT_OPTIONS } from '../../../train/data/sft.js';

let tok: Tokenizer | undefined;
const llmjp4 = () => (tok ??= Tokenizer.fromFile('test/fixtures/tokenizer/llm-jp-tokenizer_ver4.0_alpha1.0.model'));

describe('renderInstruction', () => {
  it('masks exactly the assistant reply and its closing <|return|>', () => {
    const t = llmjp4();
    // Text without the ▁ metasymbol, special-token names or edge spaces (which a dummy prefix shifts).
    const text = fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
      .map((s) => s.replaceAll('\u2581', '').replaceAll('<|', '').trim())
      .filter((s) => s !== '');
    checkProperty(
      fc.record({ instruction: text, input: fc.oneof(fc.constant(''), text), output: text }),
      (r) => {
        const rec = { id: 'x', ...r };
        const { ids, mask } = renderInstruction(t, rec);
        const first = mask.indexOf(1);
        // The masked tokens are one run at the end.
        expect(Array.from(mask.subarray(first)).every((m) => m === 1)).toBe(true);
        expect(Array.from(mask.subarray(0, first)).every((m) => m === 0)).toBe(true);
        expect(t.decodeWithSpecial(ids.slice(first))).toBe(`<|channel|>final<|message|>${r.output}<|return|>`);
        // What comes before is the prompt up to `<|start|>assistant`, the user turn holding instruction and input.
        const prompt = t.decodeWithSpecial(ids.slice(0, first));
        expect(prompt.endsWith(`<|start|>user<|message|>${instructionMessages(rec)[0]!.content}<|end|><|start|>assistant`)).toBe(
          true,
        );
        expect(prompt.startsWith('<|start|>system<|message|>')).toBe(true); // no BOS, as apply_chat_template
        expect(prompt).toContain(`Current date: ${SFT_CHAT_OPTIONS.currentDate}`);
      },
      60,
    );
  });

  it('puts the input after the instruction, separated by a blank line', () => {
    expect(instructionMessages({ id: 'a', instruction: 'Translate.', input: 'こんにちは', output: 'Hello' })).toEqual([
      { role: 'user', content: 'Translate.\n\nこんにちは' },
      { role: 'assistant', content: 'Hello' },
    ]);
    expect(instructionMessages({ id: 'b', instruction: 'Q?', input: '  ', output: 'A' })[0]!.content).toBe('Q?');
  });
});

describe('labels and padding', () => {
  it('labels are the ids where the mask is 1 and −100 elsewhere', () => {
    expect(Array.from(maskedLabels([5, 6, 7, 8], [0, 1, 1, 0]))).toEqual([-100, 6, 7, -100]);
    expect(() => maskedLabels([1, 2], [1])).toThrow(/2 ids but 1 mask entries/);
  });

  it('right-pads rows with the pad id, label −100 and attention 0; longer examples are an error', () => {
    const rows = padRows(
      [
        { ids: [10, 11, 12], labels: [-100, 11, 12] },
        { ids: [20], labels: [20] },
      ],
      4,
      4,
    );
    expect(Array.from(rows.ids)).toEqual([10, 11, 12, 4, 20, 4, 4, 4]);
    expect(Array.from(rows.labels)).toEqual([-100, 11, 12, -100, 20, -100, -100, -100]);
    expect(Array.from(rows.attention)).toEqual([1, 1, 1, 0, 1, 0, 0, 0]);
    expect(() => padRows([{ ids: [1, 2, 3], labels: [1, 2, 3] }], 2, 4)).toThrow(
      /example 0 has 3 tokens, more than the sequence length 2/,
    );
  });
});
