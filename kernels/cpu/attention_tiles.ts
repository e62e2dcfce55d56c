// The inner loops flash attention is made of, over float64 rows of length HS: a 4×4 register tile of
// dot products (scores = Q·Kᵀ, dP = dO·Vᵀ) and a 4-rows-by-4-keys accumulation (O += P·V, dV += Pᵀ·dO,
// dK += dSᵀ·Q, dQ += dS·K). Edges fall back to one row / one key at a time.

/** S[r·ldS + c] = Σ_d A[aBase + r·HS + d] · B[bBase + c·HS + d] for r < rows, c < cols. */
export function rowDots(
  A: Float64Array,
  aBase: number,
  B: Float64Array,
  bBase: number,
  rows: number,
  cols: number,
  HS: number,
  S: Float64Array,
  ldS: number,
): void {
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    let c = 0;
    for (; c + 4 <= cols; c += 4) dots4x4(A, aBase + r * HS, B, bBase + c * HS, HS, S, r * ldS + c, ldS);
    for (; c < cols; c++) for (let rr = r; rr < r + 4; rr++) S[rr * ldS + c] = dot(A, aBase + rr * HS, B, bBase + c * HS, HS);
  }
  for (; r < rows; r++) for (let c = 0; c < cols; c++) S[r * ldS + c] = dot(A, aBase + r * HS, B, bBase + c * HS, HS);
}

function dot(A: Float64Array, a: number, B: Float64Array, b: number, n: number): number {
  let s = 0;
  for (let d = 0; d < n; d++) s += A[a + d] * B[b + d];
  return s;
}

/** 16 dot products of 4 rows of A with 4 rows of B, the partial sums held in locals. */
function dots4x4(
  A: Float64Array,
  a: number,
  B: Float64Array,
  b: number,
  HS: number,
  S: Float64Array,
  s: number,
  ldS: number,
): void {
  let s00 = 0,
    s01 = 0,
    s02 = 0,
    s03 = 0,
    s10 = 0,
    s11 = 0,
    s12 = 0,
    s13 = 0;
  let s20 = 0,
    s21 = 0,
    s22 = 0,
    s23 = 0,
    s30 = 0,
    s31 = 0,
    s32 = 0,
    s33 = 0;
  const a1 = a + HS,
    a2 = a + 2 * HS,
    a3 = a + 3 * HS;
  const b1 = b + HS,
    b2 = b + 2 * HS,
    b3 = b + 3 * HS;
  for (let d = 0; d < HS; d++) {
    const x0 = A[a + d],
      x1 = A[a1 + d],
      x2 = A[a2 + d],
      x3 = A[a3 + d];
    const y0 = B[b + d],
      y1 = B[b1 + d],
      y2 = B[b2 + d],
      y3 = B[b3 + d];
    s00 += x0 * y0;
    s01 += x0 * y1;
    s02 += x0 * y2;
    s03 += x0 * y3;
    s10 += x1 * y0;
    s11 += x1 * y1;
    s12 += x1 * y2;
    s13 += x1 * y3;
    s20 += x2 * y0;
    s21 += x2 * y1;
    s22 += x2 * y2;
    s23 += x2 * y3;
    s30 += x3 * y0;
    s31 += x3 * y1;
    s32 += x3 * y2;
    s33 += x3 * y3;
  }
  S[s] = s00;
  S[s + 1] = s01;
  S[s + 2] = s02;
  S[s + 3] = s03;
  s += ldS;
  S[s] = s10;
  S[s + 1] = s11;
  S[s + 2] = s12;
  S[s + 3] = s13;
  s += ldS;
  S[s] = s20;
  S[s + 1] = s21;
  S[s + 2] = s22;
  S[s + 3] = s23;
  s += ldS;
  S[s] = s30;
  S[s + 1] = s31;
  S[s + 2] = s32;
  S[s + 3] = s33;
}

/**
 * Acc[r·HS + d] += Σ_c P[p + r·pr + c·pc] · V[vBase + c·HS + d] for r < rows, c < cols. The weight
 * strides (pr, pc) let the same loop use P as is (O += P·V) or transposed (dK += dSᵀ·Q).
 */
export function accumulateRows(
  P: Float64Array,
  p: number,
  pr: number,
  pc: number,
  V: Float64Array,
  vBase: number,
  rows: number,
  cols: number,
  HS: number,
  Acc: Float64Array,
  accBase: number,
): void {
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    let c = 0;
    for (; c + 4 <= cols; c += 4) axpy4x4(P, p + r * pr + c * pc, pr, pc, V, vBase + c * HS, HS, Acc, accBase + r * HS);
    for (; c < cols; c++)
      for (let rr = r; rr < r + 4; rr++) axpy(P[p + rr * pr + c * pc], V, vBase + c * HS, Acc, accBase + rr * HS, HS);
  }
  for (; r < rows; r++) for (let c = 0; c < cols; c++) axpy(P[p + r * pr + c * pc], V, vBase + c * HS, Acc, accBase + r * HS, HS);
}

function axpy(w: number, V: Float64Array, v: number, Acc: Float64Array, acc: number, HS: number): void {
  if (w === 0) return;
  for (let d = 0; d < HS; d++) Acc[acc + d] += w * V[v + d];
}

/** Four accumulator rows each += a weighted sum of the same four V rows: 16 weights, 4 V loads per step. */
function axpy4x4(
  P: Float64Array,
  p: number,
  pr: number,
  pc: number,
  V: Float64Array,
  v: number,
  HS: number,
  Acc: Float64Array,
  acc: number,
): void {
  const w00 = P[p],
    w01 = P[p + pc],
    w02 = P[p + 2 * pc],
    w03 = P[p + 3 * pc];
  const w10 = P[p + pr],
    w11 = P[p + pr + pc],
    w12 = P[p + pr + 2 * pc],
    w13 = P[p + pr + 3 * pc];
  const w20 = P[p + 2 * pr],
    w21 = P[p + 2 * pr + pc],
    w22 = P[p + 2 * pr + 2 * pc],
    w23 = P[p + 2 * pr + 3 * pc];
  const w30 = P[p + 3 * pr],
    w31 = P[p + 3 * pr + pc],
    w32 = P[p + 3 * pr + 2 * pc],
    w33 = P[p + 3 * pr + 3 * pc];
  const v1 = v + HS,
    v2 = v + 2 * HS,
    v3 = v + 3 * HS;
  const a1 = acc + HS,
    a2 = acc + 2 * HS,
    a3 = acc + 3 * HS;
  for (let d = 0; d < HS; d++) {
    const y0 = V[v + d],
      y1 = V[v1 + d],
      y2 = V[v2 + d],
      y3 = V[v3 + d];
    Acc[acc + d] += w00 * y0 + w01 * y1 + w02 * y2 + w03 * y3;
    Acc[a1 + d] += w10 * y0 + w11 * y1 + w12 * y2 + w13 * y3;
    Acc[a2 + d] += w20 * y0 + w21 * y1 + w22 * y2 + w23 * y3;
    Acc[a3 + d] += w30 * y0 + w31 * y1 + w32 * y2 + w33 * y3;
  }
}
