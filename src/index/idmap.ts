/**
 * Caller id -> row map of the indexes (FlatIndex, ScannStore): open addressing over typed arrays (linear probing,
 * Fibonacci hashing, backward-shift deletion), 8 bytes per slot at load <= 1/2, about a third of a JS Map's memory
 * for REALM's millions of block ids (issue 4's "index memory <= hnswlib's"). Keys are uint32 ids < 0xFFFFFFFF;
 * 0xFFFFFFFF (NO_ID) marks an empty slot.
 */
const EMPTY = 0xffffffff;

export class IdMap {
  private keys: Uint32Array;
  private vals: Int32Array;
  private shift: number; // 32 - log2(capacity)
  private count = 0;

  constructor(expected = 0) {
    let bits = 4;
    while (1 << bits < expected * 2) bits++;
    this.keys = new Uint32Array(1 << bits).fill(EMPTY);
    this.vals = new Int32Array(1 << bits);
    this.shift = 32 - bits;
  }

  /** Number of ids held. */
  get size(): number {
    return this.count;
  }

  private slot(id: number): number {
    return Math.imul(id, 0x9e3779b1) >>> this.shift;
  }

  private find(id: number): number {
    const mask = this.keys.length - 1;
    for (let i = this.slot(id); ; i = (i + 1) & mask) {
      const k = this.keys[i]!;
      if (k === id) return i;
      if (k === EMPTY) return -1;
    }
  }

  has(id: number): boolean {
    return this.find(id) >= 0;
  }

  /** The row of id, or undefined. */
  get(id: number): number | undefined {
    const i = this.find(id);
    return i >= 0 ? this.vals[i]! : undefined;
  }

  /** Sets (or replaces) the row of id (0 <= id < 0xFFFFFFFF). */
  set(id: number, row: number): void {
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    const mask = this.keys.length - 1;
    for (let i = this.slot(id); ; i = (i + 1) & mask) {
      const k = this.keys[i]!;
      if (k === id) {
        this.vals[i] = row;
        return;
      }
      if (k === EMPTY) {
        this.keys[i] = id;
        this.vals[i] = row;
        this.count++;
        return;
      }
    }
  }

  /** Removes id; returns whether it was present. */
  delete(id: number): boolean {
    let i = this.find(id);
    if (i < 0) return false;
    const mask = this.keys.length - 1;
    // Backward-shift: move later members of the probe run into the hole when their home slot allows it.
    for (let j = (i + 1) & mask; this.keys[j] !== EMPTY; j = (j + 1) & mask) {
      const home = this.slot(this.keys[j]!);
      if (((j - home) & mask) >= ((j - i) & mask)) {
        this.keys[i] = this.keys[j]!;
        this.vals[i] = this.vals[j]!;
        i = j;
      }
    }
    this.keys[i] = EMPTY;
    this.count--;
    return true;
  }

  private grow(): void {
    const oldK = this.keys, oldV = this.vals;
    this.keys = new Uint32Array(oldK.length * 2).fill(EMPTY);
    this.vals = new Int32Array(oldK.length * 2);
    this.shift--;
    this.count = 0;
    for (let i = 0; i < oldK.length; i++) if (oldK[i] !== EMPTY) this.set(oldK[i]!, oldV[i]!);
  }
}
