// Seeded random numbers that are the same on every machine: xoshiro128** over 32-bit integer math
// (Math.imul), seeded through splitmix32; normals by Box–Muller. V8's Math.log/cos/sin are fdlibm
// ports, so the float results are bit-identical across platforms too.

/** A random stream. Its whole state is four uint32 words, so it can be saved and restored exactly. */
export class Generator {
  #s = new Uint32Array(4);

  constructor(seed = 0) {
    this.seed(seed);
  }

  /** Reset the stream from an integer seed (splitmix32 spreads it over the state). */
  seed(seed: number): void {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.#s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    // An all-zero state would stay zero forever.
    if (this.#s.every((w) => w === 0)) this.#s[0] = 1;
  }

  /** The state, for checkpoints. */
  getState(): number[] {
    return Array.from(this.#s);
  }

  setState(state: readonly number[]): void {
    if (state.length !== 4 || state.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)) {
      throw new Error(`Generator.setState: expected four uint32 words, got [${state.join(',')}]`);
    }
    this.#s.set(state);
  }

  /** The next uint32 (xoshiro128**). */
  nextUint32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  nextFloat64(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [0, 1) with 24 random bits: exactly representable in float32. */
  nextFloat32(): number {
    return (this.nextUint32() >>> 8) / 16777216;
  }

  /** Uniform integer in [0, n) without modulo bias (rejection sampling). */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 0x100000000) throw new Error(`Generator.nextInt: bad range ${n}`);
    const limit = 0x100000000 - (0x100000000 % n);
    for (;;) {
      const r = this.nextUint32();
      if (r < limit) return r % n;
    }
  }

  /** Two independent standard normals (Box–Muller); u1 is kept away from 0 so log is finite. */
  nextNormalPair(): [number, number] {
    const u1 = 1 - this.nextFloat64();
    const u2 = this.nextFloat64();
    const r = Math.sqrt(-2 * Math.log(u1));
    return [r * Math.cos(2 * Math.PI * u2), r * Math.sin(2 * Math.PI * u2)];
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

let globalGen = new Generator(0);

/** Seed the default generator (like torch.manual_seed). */
export function manualSeed(seed: number): void {
  globalGen = new Generator(seed);
}

export function defaultGenerator(): Generator {
  return globalGen;
}
