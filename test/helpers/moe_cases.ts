// fast-check cases for the fused MoE experts op, shared by the CPU (fused = per-expert loop) and GPU
// (GPU = CPU) tests: x [N, H], routing weights [N, K], K distinct experts per token, stacked experts, and
// sometimes a capacity. With E up to 6 experts and few tokens, some experts often get no token.
import fc from 'fast-check';
import { tensorSpec, type OpCase } from '../../core/testing/index.js';

export interface MoeCase {
  /** Tokens an expert keeps at most, or −1 for dropless. */
  capacity: number;
}

/** The sizes: N ≤ maxN tokens, H ≤ 6, I ≤ 5, E ≤ 6, K ≤ min(E, 3), and a capacity in [0, N·K] when capped. */
export function moeSizes(maxN: number) {
  return fc
    .record({
      N: fc.integer({ min: 1, max: maxN }),
      H: fc.integer({ min: 1, max: 6 }),
      I: fc.integer({ min: 1, max: 5 }),
      E: fc.integer({ min: 1, max: 6 }),
      capped: fc.boolean(),
    })
    .chain((s) =>
      fc
        .integer({ min: 1, max: Math.min(s.E, 3) })
        .chain((K) => fc.integer({ min: 0, max: s.N * K }).map((cap) => ({ ...s, K, cap }))),
    );
}

/** Inputs [x, weights, indices (int32), gate, up, down] and the capacity attribute. */
export function moeExpertCases(maxN: number): fc.Arbitrary<OpCase<MoeCase>> {
  return moeSizes(maxN).chain(({ N, H, I, E, K, capped, cap }) =>
    fc
      .tuple(
        tensorSpec([N, H]),
        tensorSpec([N, K], { min: 0.05, max: 1 }),
        fc.array(fc.shuffledSubarray([...Array(E).keys()], { minLength: K, maxLength: K }), { minLength: N, maxLength: N }),
        tensorSpec([E, I, H]),
        tensorSpec([E, I, H]),
        tensorSpec([E, H, I]),
      )
      .map(([x, w, idx, g, u, d]) => ({
        inputs: [
          x,
          w,
          { shape: [N, K], values: idx.flat(), layout: { kind: 'contiguous' as const }, kind: 'int32' as const },
          g,
          u,
          d,
        ],
        attrs: { capacity: capped ? cap : -1 },
      })),
  );
}
