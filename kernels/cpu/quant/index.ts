// The storage formats of weights kept as stored (bfloat16, float16) or block-quantized (ggml's q8_0, q4_0):
// bulk conversions, ggml's reference quantizers and dequantizers, and the reference matrix-vector product.
// Kernel-level only: nothing here knows about tensors. See README.md for the layouts and error bounds.

export { bf16ToF32, f32ToBf16 } from './bfloat16.js';
export { BLOCK_BYTES, blockLayout, QK, type BlockFormat, type BlockLayout } from './blocks.js';
export { f16ToF32, f32ToF16, halfOf, valueOfHalf } from './float16.js';
export {
  bitsPerWeight,
  packWeight,
  rowReader,
  storedLength,
  unpackWeight,
  WEIGHT_FORMATS,
  type PackedWeight,
  type WeightArrays,
  type WeightFormat,
} from './formats.js';
export { matvecReference } from './matvec.js';
export { dequantizeBlocksQ4_0, dequantizeQ4_0, quantizeQ4_0 } from './q4_0.js';
export { dequantizeBlocksQ8_0, dequantizeQ8_0, quantizeQ8_0 } from './q8_0.js';
