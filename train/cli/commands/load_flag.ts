// `--dtype auto|float32|float64|bfloat16|float16` and `--quantize q8_0|q4_0` on every command that loads a
// model: one option spec and one parser into fromPretrained's options. --dtype float32 stays the default
// (the numbers the commands printed before) unless --quantize is given, which implies auto; `--dtype auto`
// keeps a BF16 release 2 bytes per weight, and --quantize turns every Linear weight into ggml blocks on
// load (a quantized checkpoint needs neither).

import { LOAD_DTYPES, type LoadDtype } from '../../../model/io/load_plan.js';
import { isQuantFormat } from '../../../model/io/quant_layout.js';
import type { LoadOptions } from '../../../model/pretrained.js';

export const loadOption = {
  dtype: { type: 'string' as const },
  quantize: { type: 'string' as const },
};

export const loadHelp = `--dtype ${LOAD_DTYPES.join('|')} --quantize q8_0|q4_0`;

/** The flags as fromPretrained's options; a value outside the lists is an error naming the flag. */
export function loadOptions(values: { dtype?: string; quantize?: string }): Pick<LoadOptions, 'dtype' | 'quantize'> {
  const dtype = values.dtype ?? (values.quantize !== undefined ? 'auto' : 'float32');
  if (!LOAD_DTYPES.includes(dtype as LoadDtype))
    throw new Error(`--dtype must be one of ${LOAD_DTYPES.join(', ')}, got '${dtype}'`);
  if (values.quantize !== undefined && !isQuantFormat(values.quantize))
    throw new Error(`--quantize must be q8_0 or q4_0, got '${values.quantize}'`);
  return { dtype: dtype as LoadDtype, quantize: values.quantize as LoadOptions['quantize'] };
}
