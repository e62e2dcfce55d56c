// Checks on a model weight's values as it is loaded: a weight is floating point (an I32/I64 tensor in a
// float slot ran as 1.7e10-sized logits), and finite (a NaN or Inf weight made every loss NaN without a word).
// One pass over each array as it arrives; the error names the file and the tensor.

import type { StDType } from './safetensors_read.js';

const FLOAT_STORED: readonly StDType[] = ['F64', 'F32', 'F16', 'BF16'];

/** Refuse an integer or bool tensor where a model weight (always floating point) is expected. */
export function refuseNonFloat(file: string, name: string, dtype: StDType): void {
  if (!FLOAT_STORED.includes(dtype))
    throw new Error(
      `${file}: tensor '${name}' is stored as ${dtype}, but a model weight must be floating point (F32, F16, BF16 or F64)`,
    );
}

/** Refuse a NaN or ±Inf among float values (float32/float64 arrays). */
export function refuseNonFiniteFloats(file: string, name: string, values: Float32Array | Float64Array, offset = 0): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    // v - v is NaN exactly when v is NaN or ±Inf: one subtraction per value.
    if (v - v !== 0) throw nonFinite(file, name, offset + i, v);
  }
}

/** Refuse a NaN or ±Inf among IEEE half (F16) or bfloat16 bit patterns: the exponent bits all ones. */
export function refuseNonFinite16(file: string, name: string, bits: Uint16Array, kind: 'F16' | 'BF16', offset = 0): void {
  const mask = kind === 'F16' ? 0x7c00 : 0x7f80;
  for (let i = 0; i < bits.length; i++)
    if ((bits[i]! & mask) === mask)
      throw nonFinite(file, name, offset + i, bits[i]! & (mask === 0x7c00 ? 0x3ff : 0x7f) ? NaN : Infinity);
}

function nonFinite(file: string, name: string, at: number, v: number): Error {
  return new Error(
    `${file}: tensor '${name}' holds ${v} at element ${at}: a weight must be finite (the checkpoint is corrupt or diverged)`,
  );
}
