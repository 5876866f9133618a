/**
 * LUT16 fast scan in TypeScript (Guo et al. 2020 §4; faiss / ScaNN "fast scan"): packing of 4-bit codes into the
 * transposed 32-point group layout, per-query uint8 look-up tables, the uint16 group scan, and the complete
 * ScannIndex query pipeline. This is the fallback and the reference for the native kernels in
 * native/src/index_kernels_impl.h, and follows them step by step (same layout, same quantisation of the LUT).
 *
 * Layout: for group g (points 32g..32g+31) and sub-quantiser pair p, 32 bytes at (g * pairs + p) * 32; byte j < 16
 * holds sub-quantiser 2p's codes of points j (low nibble) and j + 16 (high nibble); byte 16 + j the same for 2p + 1.
 */
import { TopK, dotAt } from './topk.js';

/** Centres per sub-quantiser (4-bit codes). */
export const CENTRES = 16;
/** Points per fast-scan group. */
export const GROUP = 32;

/** Stores code [M = 2 * pairs] (values 0..15) into slot s of the packed array. */
export function packCode(packed: Uint8Array, pairs: number, s: number, code: ArrayLike<number>, codeOff = 0): void {
  const j = s & 31, sh = j < 16 ? 0 : 4, keep = 0xf0 >> sh;
  const base = (s >> 5) * pairs * 32 + (j & 15);
  for (let m = 0; m < 2 * pairs; m++) {
    // byte of sub-quantiser m: pair m >> 1, half m & 1; nibble: low for points 0..15 of the group, high for 16..31.
    const o = base + (m >> 1) * 32 + (m & 1) * 16;
    packed[o] = (packed[o]! & keep) | ((code[codeOff + m]! & 15) << sh);
  }
}

/** Reads slot s's code [2 * pairs] from the packed array. */
export function unpackCode(packed: Uint8Array, pairs: number, s: number, out: Uint8Array = new Uint8Array(2 * pairs)): Uint8Array {
  const j = s & 31, sh = j < 16 ? 0 : 4;
  const base = (s >> 5) * pairs * 32 + (j & 15);
  for (let m = 0; m < 2 * pairs; m++) out[m] = (packed[base + (m >> 1) * 32 + (m & 1) * 16]! >> sh) & 15;
  return out;
}

/** uint16 sums of LUT entries for `groups` consecutive groups (scalar reference of the vpshufb kernel). */
export function lut16ScanJs(codes: Uint8Array, lut: Uint8Array, pairs: number, groups: number): Uint16Array {
  const acc = new Uint16Array(groups * GROUP);
  for (let g = 0; g < groups; g++) {
    for (let p = 0; p < pairs; p++) {
      const c = (g * pairs + p) * 32, t = p * 32;
      for (let j = 0; j < 16; j++) {
        const c0 = codes[c + j]!, c1 = codes[c + 16 + j]!;
        acc[g * 32 + j] += lut[t + (c0 & 15)]! + lut[t + 16 + (c1 & 15)]!;
        acc[g * 32 + 16 + j] += lut[t + (c0 >> 4)]! + lut[t + 16 + (c1 >> 4)]!;
      }
    }
  }
  return acc;
}

/** A query's quantised look-up table: approx(q . r) = bias + sum_m lut8[m][code_m] / scale. */
export interface QueryLut {
  lut8: Uint8Array; // [pairs * 32]
  bias: number;
  scale: number;
  maxAcc: number; // largest possible accumulator value
}

/** Builds the uint8 LUT of query q (offset qo, dim d) against codebooks [2 * pairs, 16, 2]. */
export function buildLut(q: Float32Array, qo: number, d: number, codebooks: Float32Array, pairs: number): QueryLut {
  const M = 2 * pairs;
  const lutF = new Float32Array(M * CENTRES);
  let bias = 0, maxRange = 0;
  for (let m = 0; m < M; m++) {
    const q0 = 2 * m < d ? q[qo + 2 * m]! : 0, q1 = 2 * m + 1 < d ? q[qo + 2 * m + 1]! : 0;
    let mn = Infinity, mx = -Infinity;
    for (let c = 0; c < CENTRES; c++) {
      const v = Math.fround(q0 * codebooks[(m * CENTRES + c) * 2]! + q1 * codebooks[(m * CENTRES + c) * 2 + 1]!);
      lutF[m * CENTRES + c] = v;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    bias = Math.fround(bias + mn);
    if (mx - mn > maxRange) maxRange = Math.fround(mx - mn);
    for (let c = 0; c < CENTRES; c++) lutF[m * CENTRES + c] = lutF[m * CENTRES + c]! - mn;
  }
  const lutMax = Math.min(255, Math.floor(32767 / M));
  const scale = maxRange > 0 ? Math.fround(lutMax / maxRange) : 1;
  const lut8 = new Uint8Array(pairs * 32);
  for (let m = 0; m < M; m++) {
    for (let c = 0; c < CENTRES; c++) {
      lut8[(m >> 1) * 32 + (m & 1) * 16 + c] = Math.min(lutMax, Math.floor(Math.fround(lutF[m * CENTRES + c]! * scale) + 0.5));
    }
  }
  return { lut8, bias, scale, maxAcc: M * lutMax };
}

/** The arrays a ScannIndex search reads (same fields as the native handle; see native/src/index_common.h). */
export interface ScannArrays {
  d: number;
  pairs: number;
  leaves: number;
  centroids: Float32Array; // [leaves, d]
  codebooks: Float32Array; // [2 * pairs, 16, 2]
  codes: Uint8Array; // [slots / 32, pairs, 32]
  leafStart: Int32Array; // [leaves]
  leafCount: Int32Array; // [leaves]
  slotRow: Int32Array; // [slots]
  vectors: Float32Array; // [rows, d]
  rowId: Uint32Array; // [rows]
}

/** One query through the ScannIndex pipeline: probe leaves, LUT16 scan, keep `reorder` candidates, re-rank. */
export function scannSearchOneJs(
  v: ScannArrays, q: Float32Array, qo: number, k: number, nProbe: number, reorder: number,
  outIds: Uint32Array, outScores: Float32Array, outOff: number,
): void {
  const { d, pairs, leaves } = v;
  const leafScore = new Float32Array(leaves);
  const order: number[] = [];
  for (let l = 0; l < leaves; l++) {
    leafScore[l] = dotAt(q, qo, v.centroids, l * d, d);
    if (v.leafCount[l]! > 0) order.push(l);
  }
  order.sort((a, b) => leafScore[b]! - leafScore[a]! || a - b);
  if (order.length > nProbe) order.length = nProbe;
  const { lut8, bias, scale, maxAcc } = buildLut(q, qo, d, v.codebooks, pairs);
  const invScale = 1 / scale;
  const rerank = reorder > 0;
  const cand = new TopK(rerank ? Math.max(reorder, k) : k);
  for (const l of order) {
    const n = v.leafCount[l]!, start = v.leafStart[l]!;
    const base = leafScore[l]! + bias;
    const thrFor = (): number => {
      if (!cand.full) return -1;
      const t = (cand.min - base) * scale;
      return t >= maxAcc ? maxAcc : t < 0 ? -1 : Math.floor(t);
    };
    let thr = thrFor();
    if (thr >= maxAcc) continue;
    const groups = Math.ceil(n / GROUP);
    const acc = lut16ScanJs(v.codes.subarray((start / GROUP) * pairs * 32, (start / GROUP + groups) * pairs * 32), lut8, pairs, groups);
    for (let i = 0; i < n; i++) {
      if (acc[i]! <= thr) continue;
      cand.push(base + acc[i]! * invScale, start + i);
      thr = thrFor();
    }
  }
  const best = new TopK(k);
  for (let c = 0; c < cand.size; c++) {
    const row = v.slotRow[cand.index[c]!]!;
    if (row < 0) continue;
    best.push(rerank ? Math.fround(dotAt(q, qo, v.vectors, row * d, d)) : cand.score[c]!, row);
  }
  const rows = new Int32Array(k), sc = new Float32Array(k);
  best.drain(rows, sc, 0, -1);
  for (let t = 0; t < k; t++) {
    outIds[outOff + t] = rows[t]! >= 0 ? v.rowId[rows[t]!]! : 0xffffffff;
    outScores[outOff + t] = sc[t]!;
  }
}
