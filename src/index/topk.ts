/**
 * Bounded top-k selection (min-heap of the k best (score, index) pairs; ties keep the lower index) and the
 * pure-TypeScript exact inner-product search that FlatIndex and k-means assignment fall back on without the addon.
 */

/** Keeps the `cap` largest scores seen; on equal scores the smaller index wins. */
export class TopK {
  readonly score: Float32Array;
  readonly index: Int32Array;
  size = 0;

  constructor(readonly cap: number) {
    this.score = new Float32Array(cap);
    this.index = new Int32Array(cap);
  }

  reset(): void {
    this.size = 0;
  }

  get full(): boolean {
    return this.size >= this.cap;
  }

  /** Smallest kept score (valid when size > 0). */
  get min(): number {
    return this.score[0]!;
  }

  // a ranks below b (a belongs nearer the top of the min-heap).
  private below(i: number, j: number): boolean {
    const a = this.score[i]!, b = this.score[j]!;
    return a < b || (a === b && this.index[i]! > this.index[j]!);
  }

  private swap(i: number, j: number): void {
    const s = this.score[i]!, x = this.index[i]!;
    this.score[i] = this.score[j]!;
    this.index[i] = this.index[j]!;
    this.score[j] = s;
    this.index[j] = x;
  }

  push(score: number, index: number): void {
    if (this.size < this.cap) {
      let i = this.size++;
      this.score[i] = score;
      this.index[i] = index;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!this.below(i, p)) break;
        this.swap(i, p);
        i = p;
      }
      return;
    }
    const s0 = this.score[0]!;
    if (!(score > s0 || (score === s0 && index < this.index[0]!))) return;
    this.score[0] = score;
    this.index[0] = index;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < this.size && this.below(l, m)) m = l;
      if (r < this.size && this.below(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }

  /** Writes the kept entries best first into outIdx/outScore at offset (padding with fill values up to cap). */
  drain(outIdx: Int32Array | Uint32Array, outScore: Float32Array, offset: number, fillIdx: number): void {
    const order = Array.from({ length: this.size }, (_, i) => i);
    order.sort((a, b) => this.score[b]! - this.score[a]! || this.index[a]! - this.index[b]!);
    for (let t = 0; t < this.cap; t++) {
      if (t < order.length) {
        outIdx[offset + t] = this.index[order[t]!]!;
        outScore[offset + t] = this.score[order[t]!]!;
      } else {
        outIdx[offset + t] = fillIdx;
        outScore[offset + t] = -Infinity;
      }
    }
  }
}

/** Inner product of a[ao..ao+d) and b[bo..bo+d). */
export function dotAt(a: Float32Array, ao: number, b: Float32Array, bo: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) s += a[ao + j]! * b[bo + j]!;
  return s;
}

/**
 * Exact top-k: for each query q, the k rows r of db [nDb, d] with the largest queries[q] . db[r] (+ bias[r]).
 * Writes row indices (-1 past nDb) into outIdx [nq, k] and scores into outScores [nq, k].
 */
export function flatSearchJs(
  db: Float32Array, nDb: number, d: number, bias: Float32Array | null, queries: Float32Array, nq: number, k: number,
  outIdx: Int32Array, outScores: Float32Array,
): void {
  const heap = new TopK(k);
  for (let q = 0; q < nq; q++) {
    heap.reset();
    const qo = q * d;
    for (let r = 0; r < nDb; r++) {
      const s = Math.fround(dotAt(queries, qo, db, r * d, d) + (bias ? bias[r]! : 0));
      if (!heap.full || s > heap.min) heap.push(s, r);
    }
    heap.drain(outIdx, outScores, q * k, -1);
  }
}
