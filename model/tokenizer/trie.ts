// A trie over the UTF-8 bytes of the vocabulary, the structure SentencePiece keeps as a Darts double
// array. Here the edges live in one open-addressing hash table keyed by (node, byte), which builds in a
// single pass (≈0.1 s for 196,608 pieces) and answers a step in a probe or two. It only stores and looks
// up keys; which piece wins is the Viterbi's business (unigram.ts).

export class ByteTrie {
  /** Piece id stored at each node, -1 where no piece ends. Node 0 is the root. */
  readonly value: Int32Array;
  /** Children of the root, by byte: the one step every position takes, kept out of the hash. */
  private readonly rootChild: Int32Array;
  /** Hash slots, two ints each: key (node·256 + byte, or -1 when free) then the child node, side by side
   *  so a probe touches one cache line. */
  private readonly slots: Int32Array;
  private readonly mask: number;
  private readonly shift: number;
  readonly nodeCount: number;
  /** The node where key i ends. */
  readonly keyNode: Int32Array;

  /**
   * Builds from keys given as one byte array and the offsets where key i spans
   * bytes[offsets[i], offsets[i+1]), with their ids; a repeated key keeps its first id.
   */
  constructor(bytes: Uint8Array, offsets: ArrayLike<number>, ids: ArrayLike<number>) {
    const totalBytes = bytes.length + 1;
    // Every byte of every key is at most one edge, so this bounds the node count; load factor ≤ 1/2.
    let bits = 4;
    while (1 << bits < 2 * totalBytes) bits++;
    this.shift = 32 - bits;
    this.slots = new Int32Array(2 << bits).fill(-1);
    this.mask = (1 << bits) - 1;
    this.rootChild = new Int32Array(256).fill(-1);
    const value = new Int32Array(totalBytes).fill(-1);
    let nodes = 1;
    this.keyNode = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      let node = 0;
      for (let p = offsets[i]!; p < offsets[i + 1]!; p++) {
        const b = bytes[p]!;
        let next = this.next(node, b);
        if (next < 0) {
          next = nodes++;
          this.insert(node, b, next);
        }
        node = next;
      }
      if (value[node] === -1) value[node] = ids[i]!;
      this.keyNode[i] = node;
    }
    this.nodeCount = nodes;
    this.value = value.slice(0, nodes);
  }

  /** The child of `node` along byte `b`, or -1. */
  next(node: number, b: number): number {
    if (node === 0) return this.rootChild[b]!;
    const key = node * 256 + b;
    const slots = this.slots;
    // Fibonacci hashing: multiply by 2^32/φ and keep the top bits.
    for (let h = Math.imul(key, 0x9e3779b1) >>> this.shift; ; h = (h + 1) & this.mask) {
      const k = slots[2 * h]!;
      if (k === key) return slots[2 * h + 1]!;
      if (k === -1) return -1;
    }
  }

  private insert(node: number, b: number, child: number): void {
    if (node === 0) {
      this.rootChild[b] = child;
      return;
    }
    const key = node * 256 + b;
    if (key > 0x7fffffff) throw new Error(`trie: more than ${0x7fffffff >> 8} nodes`);
    let h = Math.imul(key, 0x9e3779b1) >>> this.shift;
    while (this.slots[2 * h] !== -1) h = (h + 1) & this.mask;
    this.slots[2 * h] = key;
    this.slots[2 * h + 1] = child;
  }
}

/** SentencePiece's OneCharLen: the length of a UTF-8 sequence from its lead byte (1 for a stray continuation byte). */
export function utf8CharLength(lead: number): number {
  return lead < 0xc0 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
}
