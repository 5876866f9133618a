/**
 * Storage of a ScannIndex: float rows (for exact re-ranking), caller ids, and per-leaf runs of fast-scan slots.
 * Each leaf owns a 32-aligned run of slots [leafStart, leafStart + leafCap) holding leafCount packed 4-bit codes
 * (layout in lut16.ts); a full leaf moves to the end of the slot space with twice the room, and the slot space is
 * re-laid out when more than half of it is abandoned. Removing a point moves the leaf's last code into its slot
 * (leaves stay dense); its row becomes a tombstone until rows are compacted (> 25 % dead, or compact()).
 */
import { GROUP, packCode, unpackCode } from './lut16.js';
import { IdMap } from './idmap.js';
import { NO_ID } from './types.js';

const ceil32 = (n: number): number => Math.ceil(n / GROUP) * GROUP;

export class ScannStore {
  codes: Uint8Array; // [slotCap / 32, pairs, 32]
  slotRow: Int32Array; // [slotCap] row in a slot, -1 if none
  leafStart: Int32Array; // [leaves]
  leafCount: Int32Array; // [leaves]
  leafCap: Int32Array; // [leaves]
  slotEnd = 0; // first never-used slot
  wasted = 0; // slots in abandoned leaf runs
  vectors: Float32Array; // [rowCap, d]
  rowId: Uint32Array; // [rowCap] caller id, NO_ID for a tombstone
  rowSlot: Int32Array; // [rowCap]
  rowLeaf: Int32Array; // [rowCap]
  rows = 0; // rows used (live + dead)
  dead = 0;
  readonly rowOf = new IdMap();
  /** Bumped on every change that moves or reallocates an array (search handles must be recreated). */
  version = 0;

  constructor(readonly d: number, readonly pairs: number, readonly leaves: number) {
    this.codes = new Uint8Array(0);
    this.slotRow = new Int32Array(0);
    this.leafStart = new Int32Array(leaves);
    this.leafCount = new Int32Array(leaves);
    this.leafCap = new Int32Array(leaves);
    this.vectors = new Float32Array(0);
    this.rowId = new Uint32Array(0);
    this.rowSlot = new Int32Array(0);
    this.rowLeaf = new Int32Array(0);
  }

  get live(): number {
    return this.rows - this.dead;
  }

  private reserveSlots(n: number): void {
    if (n <= this.slotRow.length) return;
    const cap = ceil32(Math.max(n, Math.ceil(this.slotRow.length * 1.5)));
    const codes = new Uint8Array((cap / GROUP) * this.pairs * 32);
    codes.set(this.codes.subarray(0, (this.slotEnd / GROUP) * this.pairs * 32));
    const sr = new Int32Array(cap).fill(-1);
    sr.set(this.slotRow.subarray(0, this.slotEnd));
    this.codes = codes;
    this.slotRow = sr;
    this.version++;
  }

  reserveRows(n: number): void {
    if (n <= this.rowId.length) return;
    const cap = Math.max(n, Math.ceil(this.rowId.length * 1.5), 16);
    const grow = <T extends Float32Array | Uint32Array | Int32Array>(a: T, per: number, make: (len: number) => T): T => {
      const b = make(cap * per);
      b.set(a.subarray(0, this.rows * per) as never);
      return b;
    };
    this.vectors = grow(this.vectors, this.d, (l) => new Float32Array(l));
    this.rowId = grow(this.rowId, 1, (l) => new Uint32Array(l));
    this.rowSlot = grow(this.rowSlot, 1, (l) => new Int32Array(l));
    this.rowLeaf = grow(this.rowLeaf, 1, (l) => new Int32Array(l));
    this.version++;
  }

  /** Lays out empty leaf runs with room for `counts[l]` points each (build). */
  layout(counts: Int32Array): void {
    let s = 0;
    for (let l = 0; l < this.leaves; l++) {
      this.leafStart[l] = s;
      this.leafCount[l] = 0;
      this.leafCap[l] = ceil32(counts[l]!);
      s += this.leafCap[l]!;
    }
    this.slotEnd = 0;
    this.reserveSlots(s);
    this.slotEnd = s;
    this.wasted = 0;
    this.version++;
  }

  /** Appends a row (vector copied from v at offset vo) for caller id; returns its row index. */
  appendRow(id: number, v: Float32Array, vo: number): number {
    this.reserveRows(this.rows + 1);
    const r = this.rows++;
    this.vectors.set(v.subarray(vo, vo + this.d), r * this.d);
    this.rowId[r] = id;
    this.rowSlot[r] = -1;
    this.rowLeaf[r] = -1;
    this.rowOf.set(id, r);
    return r;
  }

  /** Puts row r (code [2 * pairs] at code[co..]) into leaf l. */
  insert(l: number, r: number, code: Uint8Array, co: number): void {
    if (this.leafCount[l]! >= this.leafCap[l]!) this.growLeaf(l);
    const s = this.leafStart[l]! + this.leafCount[l]!++;
    packCode(this.codes, this.pairs, s, code, co);
    this.slotRow[s] = r;
    this.rowSlot[r] = s;
    this.rowLeaf[r] = l;
  }

  /** Takes row r out of its leaf (the leaf's last code moves into the hole). */
  detach(r: number): void {
    const l = this.rowLeaf[r]!, s = this.rowSlot[r]!;
    if (l < 0) return;
    const last = this.leafStart[l]! + --this.leafCount[l]!;
    if (s !== last) {
      packCode(this.codes, this.pairs, s, unpackCode(this.codes, this.pairs, last));
      const moved = this.slotRow[last]!;
      this.slotRow[s] = moved;
      this.rowSlot[moved] = s;
    }
    this.slotRow[last] = -1;
    this.rowSlot[r] = -1;
    this.rowLeaf[r] = -1;
  }

  /** Removes row r entirely (tombstone). */
  kill(r: number): void {
    this.detach(r);
    this.rowOf.delete(this.rowId[r]!);
    this.rowId[r] = NO_ID;
    this.dead++;
  }

  private growLeaf(l: number): void {
    const oldStart = this.leafStart[l]!, oldCap = this.leafCap[l]!, count = this.leafCount[l]!;
    const cap = Math.max(GROUP, ceil32(oldCap * 2));
    if (this.wasted + oldCap > (this.slotEnd + cap) / 2) {
      this.relayout(l, cap);
      return;
    }
    const start = this.slotEnd;
    this.reserveSlots(start + cap);
    this.slotEnd = start + cap;
    const gb = this.pairs * 32;
    this.codes.copyWithin((start / GROUP) * gb, (oldStart / GROUP) * gb, ((oldStart + oldCap) / GROUP) * gb);
    for (let i = 0; i < count; i++) {
      const r = this.slotRow[oldStart + i]!;
      this.slotRow[start + i] = r;
      this.rowSlot[r] = start + i;
      this.slotRow[oldStart + i] = -1;
    }
    this.leafStart[l] = start;
    this.leafCap[l] = cap;
    this.wasted += oldCap;
    this.version++;
  }

  /** Re-lays out every leaf tightly (leaf `grow` gets capacity `growCap`), dropping abandoned runs. */
  relayout(grow = -1, growCap = 0): void {
    const gb = this.pairs * 32;
    let total = 0;
    const caps = new Int32Array(this.leaves);
    for (let l = 0; l < this.leaves; l++) {
      caps[l] = l === grow ? growCap : Math.max(ceil32(this.leafCount[l]! + (this.leafCount[l]! >> 3)), this.leafCount[l]! > 0 ? GROUP : 0);
      total += caps[l]!;
    }
    const codes = new Uint8Array((ceil32(total) / GROUP) * gb);
    const slotRow = new Int32Array(ceil32(total)).fill(-1);
    let s = 0;
    for (let l = 0; l < this.leaves; l++) {
      const o = this.leafStart[l]!, n = this.leafCount[l]!;
      codes.set(this.codes.subarray((o / GROUP) * gb, (o / GROUP) * gb + Math.ceil(n / GROUP) * gb), (s / GROUP) * gb);
      for (let i = 0; i < n; i++) {
        const r = this.slotRow[o + i]!;
        slotRow[s + i] = r;
        this.rowSlot[r] = s + i;
      }
      this.leafStart[l] = s;
      this.leafCap[l] = caps[l]!;
      s += caps[l]!;
    }
    this.codes = codes;
    this.slotRow = slotRow;
    this.slotEnd = s;
    this.wasted = 0;
    this.version++;
  }

  /** Drops tombstoned rows (renumbering the live rows densely). */
  compactRows(): void {
    if (this.dead === 0) return;
    const d = this.d;
    let w = 0;
    for (let r = 0; r < this.rows; r++) {
      if (this.rowId[r] === NO_ID) continue;
      if (w !== r) {
        this.vectors.copyWithin(w * d, r * d, r * d + d);
        this.rowId[w] = this.rowId[r]!;
        this.rowSlot[w] = this.rowSlot[r]!;
        this.rowLeaf[w] = this.rowLeaf[r]!;
        this.slotRow[this.rowSlot[w]!] = w;
        this.rowOf.set(this.rowId[w]!, w);
      }
      w++;
    }
    this.rows = w;
    this.dead = 0;
    this.version++;
  }
}
