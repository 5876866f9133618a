// numpy-compatible random permutation for the benchmark's data split: `np.random.default_rng(seed).permutation(n)`
// (numpy >= 1.17 Generator API: SeedSequence -> PCG64 (XSL-RR 128/64) -> Fisher-Yates with `random_interval`).
// Re-implemented bit for bit so that bench/mips-glove.ts splits GloVe exactly like ../shared/bench/ann/prep_glove.py
// without Python; verified against numpy 2.4 (see test/bench/lib/rng.test.ts). Also a small deterministic
// float generator (`Pcg64.nextDouble`, numpy's `random()`) for the synthetic growth data.

const M32 = 0xffffffff;
const M64 = (1n << 64n) - 1n;
const M128 = (1n << 128n) - 1n;
const PCG_MULT = (2549297995355413924n << 64n) + 4865540595714422341n;

/** numpy SeedSequence(entropy).generate_state(nWords, uint32) for a non-negative integer entropy (no spawn key). */
export function seedSequenceState(entropy: number | bigint, nWords: number): Uint32Array {
  let e = BigInt(entropy);
  if (e < 0n) throw new RangeError(`seedSequenceState: entropy must be >= 0, got ${e}`);
  const words: number[] = [];
  do { words.push(Number(e & 0xffffffffn)); e >>= 32n; } while (e > 0n);
  const pool = new Uint32Array(4);
  let hc = 0x43b0d7e5;
  const hashmix = (value: number): number => {
    value = (value ^ hc) >>> 0;
    hc = Math.imul(hc, 0x931e8875) >>> 0;
    value = Math.imul(value, hc) >>> 0;
    return (value ^ (value >>> 16)) >>> 0;
  };
  const mix = (x: number, y: number): number => {
    let r = (Math.imul(0xca01f9dd, x) - Math.imul(0x4973f715, y)) >>> 0;
    return (r ^ (r >>> 16)) >>> 0;
  };
  for (let i = 0; i < 4; i++) pool[i] = hashmix(i < words.length ? words[i] : 0);
  for (let s = 0; s < 4; s++) for (let d = 0; d < 4; d++) if (s !== d) pool[d] = mix(pool[d], hashmix(pool[s]));
  for (let s = 4; s < words.length; s++) for (let d = 0; d < 4; d++) pool[d] = mix(pool[d], hashmix(words[s]));
  const out = new Uint32Array(nWords);
  let hb = 0x8b51f9dd;
  for (let i = 0; i < nWords; i++) {
    let v = (pool[i % 4] ^ hb) >>> 0;
    hb = Math.imul(hb, 0x58f38ded) >>> 0;
    v = Math.imul(v, hb) >>> 0;
    out[i] = (v ^ (v >>> 16)) >>> 0;
  }
  return out;
}

/** numpy's PCG64 bit generator (the default of np.random.default_rng), including its 32-bit output buffering. */
export class Pcg64 {
  private state: bigint;
  private readonly inc: bigint;
  private hasU32 = false;
  private u32 = 0;

  constructor(seed: number | bigint) {
    const w = seedSequenceState(seed, 8); // 4 uint64 words, little-endian pairs
    const u64 = (i: number): bigint => (BigInt(w[2 * i + 1]) << 32n) | BigInt(w[2 * i]);
    const initState = (u64(0) << 64n) | u64(1);
    const initSeq = (u64(2) << 64n) | u64(3);
    this.inc = ((initSeq << 1n) | 1n) & M128;
    this.state = 0n;
    this.step();
    this.state = (this.state + initState) & M128;
    this.step();
  }

  private step(): void {
    this.state = (this.state * PCG_MULT + this.inc) & M128;
  }

  /** next raw 64-bit output (XSL-RR). */
  nextU64(): bigint {
    this.step();
    const s = this.state;
    const x = ((s >> 64n) ^ s) & M64;
    const rot = Number(s >> 122n);
    return rot === 0 ? x : ((x >> BigInt(rot)) | (x << BigInt(64 - rot))) & M64;
  }

  /** next 32-bit output: low half of a fresh 64-bit draw, then its high half. */
  nextU32(): number {
    if (this.hasU32) { this.hasU32 = false; return this.u32; }
    const v = this.nextU64();
    this.hasU32 = true;
    this.u32 = Number(v >> 32n);
    return Number(v & 0xffffffffn);
  }

  /** numpy random_interval(max): uniform integer in [0, max] by masked rejection (max < 2^32 here). */
  interval(max: number): number {
    if (max === 0) return 0;
    if (max > M32) throw new RangeError(`Pcg64.interval: max ${max} exceeds 2^32-1`);
    let mask = max;
    mask |= mask >>> 1; mask |= mask >>> 2; mask |= mask >>> 4; mask |= mask >>> 8; mask |= mask >>> 16;
    mask >>>= 0;
    let v: number;
    do { v = (this.nextU32() & mask) >>> 0; } while (v > max);
    return v;
  }

  /** numpy Generator.random(): (next_uint64 >> 11) * 2^-53. */
  nextDouble(): number {
    return Number(this.nextU64() >> 11n) / 9007199254740992;
  }
}

/** Exactly `np.random.default_rng(seed).permutation(n)`. */
export function numpyPermutation(seed: number, n: number): Int32Array {
  const rng = new Pcg64(seed);
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  for (let i = n - 1; i >= 1; i--) {
    const j = rng.interval(i);
    const t = a[i]; a[i] = a[j]; a[j] = t;
  }
  return a;
}
