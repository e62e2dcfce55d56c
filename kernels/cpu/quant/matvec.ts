// The reference matrix-vector (and few-row) product for every weight format: y[r, o] = Σ_i x[r, i]·W[o, i],
// x float32 [rows, in], W [out, in] as stored. Plain TypeScript, the oracle the WebAssembly SIMD kernels of
// a later change are tested against. Each weight row is decoded once into a one-row scratch and applied to
// all rows of x, as decode wants (the weight is read once); no float32 copy of the whole weight is made.

import { checkPacked, rowReader, type PackedWeight } from './formats.js';

/** y = x·Wᵀ for x [rows, in] and a weight [out, in] in any format; y is [rows, out] float32. */
export function matvecReference(
  x: Float32Array,
  rows: number,
  w: PackedWeight,
  out: Float32Array = new Float32Array(rows * w.shape[0]),
): Float32Array {
  checkPacked('matvecReference', w);
  const [outDim, inDim] = w.shape;
  if (!Number.isInteger(rows) || rows < 0 || x.length !== rows * inDim)
    throw new Error(
      `matvecReference: x has ${x.length} values, expected rows·in = ${rows}·${inDim} for a weight [${outDim},${inDim}]`,
    );
  if (out.length !== rows * outDim)
    throw new Error(`matvecReference: the output holds ${out.length} values, expected rows·out = ${rows}·${outDim}`);
  const read = rowReader(w);
  for (let o = 0; o < outDim; o++) {
    const wRow = read(o);
    for (let r = 0; r < rows; r++) {
      // The sum runs in a double and is rounded to float32 once, at the store: a reference as exact as is
      // cheap, which the float32-accumulating fast kernels must match to float32 rounding.
      let acc = 0;
      const xr = r * inDim;
      for (let i = 0; i < inDim; i++) acc += x[xr + i]! * wRow[i]!;
      out[r * outDim + o] = acc;
    }
  }
  return out;
}
