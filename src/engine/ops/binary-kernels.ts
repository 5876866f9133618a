/**
 * Tight typed-array loops for broadcasting binary arithmetic (+, -, *, /). One monomorphic loop per operator and
 * broadcast pattern (equal shapes, trailing-suffix broadcast either way, scalar, general strided), so V8 compiles
 * each to straight-line code instead of calling a per-element closure.
 */
import { getBackend } from '../backends/index.js';
import { broadcastStrides, sameShape, suffixSize } from './util.js';

/** Operator codes. */
export const ADD = 0;
export const SUB = 1;
export const MUL = 2;
export const DIV = 3;
export type BinaryOp = typeof ADD | typeof SUB | typeof MUL | typeof DIV;

/** out[i] = a[i] op b[i]. */
function sameLoop(op: BinaryOp, a: Float32Array, b: Float32Array, out: Float32Array, n: number): void {
  switch (op) {
    case ADD: for (let i = 0; i < n; i++) out[i] = a[i] + b[i]; break;
    case SUB: for (let i = 0; i < n; i++) out[i] = a[i] - b[i]; break;
    case MUL: for (let i = 0; i < n; i++) out[i] = a[i] * b[i]; break;
    case DIV: for (let i = 0; i < n; i++) out[i] = a[i] / b[i]; break;
  }
}

/** out[o + j] = a[o + j] op b[j] for every block o of length m (b repeats). */
function suffixRightLoop(op: BinaryOp, a: Float32Array, b: Float32Array, out: Float32Array, n: number, m: number): void {
  if (m === 1) {
    const s = b[0];
    switch (op) {
      case ADD: for (let i = 0; i < n; i++) out[i] = a[i] + s; break;
      case SUB: for (let i = 0; i < n; i++) out[i] = a[i] - s; break;
      case MUL: for (let i = 0; i < n; i++) out[i] = a[i] * s; break;
      case DIV: for (let i = 0; i < n; i++) out[i] = a[i] / s; break;
    }
    return;
  }
  for (let o = 0; o < n; o += m) {
    switch (op) {
      case ADD: for (let j = 0; j < m; j++) out[o + j] = a[o + j] + b[j]; break;
      case SUB: for (let j = 0; j < m; j++) out[o + j] = a[o + j] - b[j]; break;
      case MUL: for (let j = 0; j < m; j++) out[o + j] = a[o + j] * b[j]; break;
      case DIV: for (let j = 0; j < m; j++) out[o + j] = a[o + j] / b[j]; break;
    }
  }
}

/** out[o + j] = a[j] op b[o + j] (a repeats). */
function suffixLeftLoop(op: BinaryOp, a: Float32Array, b: Float32Array, out: Float32Array, n: number, m: number): void {
  for (let o = 0; o < n; o += m) {
    switch (op) {
      case ADD: for (let j = 0; j < m; j++) out[o + j] = a[j] + b[o + j]; break;
      case SUB: for (let j = 0; j < m; j++) out[o + j] = a[j] - b[o + j]; break;
      case MUL: for (let j = 0; j < m; j++) out[o + j] = a[j] * b[o + j]; break;
      case DIV: for (let j = 0; j < m; j++) out[o + j] = a[j] / b[o + j]; break;
    }
  }
}

/** One innermost row of the general strided case. */
function rowLoop(
  op: BinaryOp, a: Float32Array, ia: number, la: number, b: Float32Array, ib: number, lb: number,
  out: Float32Array, o: number, len: number,
): void {
  switch (op) {
    case ADD: for (let j = 0; j < len; j++) out[o + j] = a[ia + j * la] + b[ib + j * lb]; break;
    case SUB: for (let j = 0; j < len; j++) out[o + j] = a[ia + j * la] - b[ib + j * lb]; break;
    case MUL: for (let j = 0; j < len; j++) out[o + j] = a[ia + j * la] * b[ib + j * lb]; break;
    case DIV: for (let j = 0; j < len; j++) out[o + j] = a[ia + j * la] / b[ib + j * lb]; break;
  }
}

/** out (shape outShape, the broadcast of aShape and bShape) = a op b. */
export function binaryBroadcast(
  op: BinaryOp, a: Float32Array, aShape: readonly number[], b: Float32Array, bShape: readonly number[],
  outShape: readonly number[], out: Float32Array,
): void {
  const n = out.length;
  if (n === 0) return;
  const aFull = a.length === n && sameShape(aShape, outShape);
  const bFull = b.length === n && sameShape(bShape, outShape);
  if (aFull && bFull) {
    // Large same-shape sums and differences go to the backend's vectorised, threaded axpby (the BERT embedding sum).
    if ((op === ADD || op === SUB) && n >= 4096) return getBackend().axpby(1, a, op === ADD ? 1 : -1, b, out, n);
    return sameLoop(op, a, b, out, n);
  }
  if (aFull) {
    const m = suffixSize(bShape, outShape);
    if (m > 0) return suffixRightLoop(op, a, b, out, n, m);
  }
  if (bFull) {
    const m = suffixSize(aShape, outShape);
    if (m > 0) return suffixLeftLoop(op, a, b, out, n, m);
  }
  const nd = outShape.length;
  const sa = broadcastStrides(aShape, outShape);
  const sb = broadcastStrides(bShape, outShape);
  const last = outShape[nd - 1];
  const la = sa[nd - 1];
  const lb = sb[nd - 1];
  const idx = new Array<number>(nd).fill(0);
  let ia = 0;
  let ib = 0;
  for (let o = 0; o < n; o += last) {
    rowLoop(op, a, ia, la, b, ib, lb, out, o, last);
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      ia += sa[d];
      ib += sb[d];
      if (idx[d] < outShape[d]) break;
      ia -= sa[d] * outShape[d];
      ib -= sb[d] * outShape[d];
      idx[d] = 0;
    }
  }
}
