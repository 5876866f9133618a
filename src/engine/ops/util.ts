/**
 * Shared helpers for the autograd ops: axis normalisation, NumPy broadcasting (forward index mapping and the
 * reduction of a broadcast gradient back to an input's shape), and small typed-array utilities.
 */
import { allocUninit } from '../pool.js';
import { Tensor, TensorError, shapeSize } from '../tensor.js';

export { Tensor, TensorError, shapeSize };

/** Normalises a possibly negative axis for an ndim-dimensional tensor. */
export function normAxis(axis: number, ndim: number, op: string): number {
  const a = axis < 0 ? axis + ndim : axis;
  if (!Number.isInteger(a) || a < 0 || a >= ndim) throw new TensorError(`${op}: axis ${axis} out of range for ${ndim}-d tensor`);
  return a;
}

/** Row-major strides of a contiguous shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** [outer, n, inner] split of a shape around one axis. */
export function splitAt(shape: readonly number[], axis: number): [number, number, number] {
  return [shapeSize(shape.slice(0, axis)), shape[axis], shapeSize(shape.slice(axis + 1))];
}

/** The broadcast shape of a and b (NumPy rules), or a TensorError naming the op. */
export function broadcastShapes(a: readonly number[], b: readonly number[], op: string): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da !== db && da !== 1 && db !== 1) {
      throw new TensorError(`${op}: shapes [${a.join(', ')}] and [${b.join(', ')}] are not broadcastable`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides for reading an input of shape `inShape` while iterating over the broadcast `outShape` (0 on broadcast axes). */
export function broadcastStrides(inShape: readonly number[], outShape: readonly number[]): number[] {
  const n = outShape.length;
  const off = n - inShape.length;
  const st = stridesOf(inShape);
  const res = new Array<number>(n).fill(0);
  for (let i = off; i < n; i++) res[i] = inShape[i - off] === 1 ? 0 : st[i - off];
  return res;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
export { sameShape };

/** If `inShape` (after dropping leading 1s) equals the trailing dims of outShape, its size; else 0. */
export function suffixSize(inShape: readonly number[], outShape: readonly number[]): number {
  let k = 0;
  while (k < inShape.length && inShape[k] === 1) k++;
  const tail = inShape.slice(k);
  if (tail.length > outShape.length) return 0;
  return sameShape(tail, outShape.slice(outShape.length - tail.length)) ? shapeSize(tail) : 0;
}

/**
 * Sums a gradient g of the broadcast shape `outShape` down to `inShape` (the reverse of broadcasting).
 * Returns g itself when no reduction is needed (autograd treats it as borrowed).
 */
export function reduceToShape(g: Float32Array, outShape: readonly number[], inShape: readonly number[]): Float32Array {
  if (shapeSize(inShape) === g.length) return g;
  const res = new Float32Array(shapeSize(inShape));
  const n = g.length;
  const m = suffixSize(inShape, outShape);
  if (m > 0) {
    const acc = new Float64Array(m);
    for (let o = 0; o < n; o += m) for (let j = 0; j < m; j++) acc[j] += g[o + j];
    for (let j = 0; j < m; j++) res[j] = acc[j];
    return res;
  }
  const acc = new Float64Array(res.length);
  const nd = outShape.length;
  const s = broadcastStrides(inShape, outShape);
  const last = outShape[nd - 1];
  const ls = s[nd - 1];
  const idx = new Array<number>(nd).fill(0);
  let ii = 0;
  for (let o = 0; o < n; o += last) {
    for (let j = 0; j < last; j++) acc[ii + j * ls] += g[o + j];
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      ii += s[d];
      if (idx[d] < outShape[d]) break;
      ii -= s[d] * outShape[d];
      idx[d] = 0;
    }
  }
  for (let i = 0; i < res.length; i++) res[i] = acc[i];
  return res;
}

/** Copies `src` (contiguous, shape `shape`) into a new array with axes permuted: out.shape[i] = shape[dims[i]]. */
export function permuteData(src: Float32Array, shape: readonly number[], dims: readonly number[]): Float32Array {
  const nd = shape.length;
  const out = allocUninit(src.length);
  if (src.length === 0) return out;
  const inStr = stridesOf(shape);
  const outShape = dims.map((d) => shape[d]);
  const st = dims.map((d) => inStr[d]); // source stride for each output axis
  if (nd === 0) {
    out[0] = src[0];
    return out;
  }
  const last = outShape[nd - 1];
  const ls = st[nd - 1];
  const idx = new Array<number>(nd).fill(0);
  let si = 0;
  for (let o = 0; o < out.length; o += last) {
    if (ls === 1) for (let j = 0; j < last; j++) out[o + j] = src[si + j];
    else for (let j = 0; j < last; j++) out[o + j] = src[si + j * ls];
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      si += st[d];
      if (idx[d] < outShape[d]) break;
      si -= st[d] * outShape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/** Asserts that idx values are integers in [0, n). */
export function checkIndices(idx: Int32Array, n: number, op: string): void {
  for (let i = 0; i < idx.length; i++) {
    if (idx[i] < 0 || idx[i] >= n) throw new TensorError(`${op}: index ${idx[i]} at position ${i} out of range [0, ${n})`);
  }
}

/** Throws unless t is a Tensor with exactly `nd` dims. */
export function expectNdim(t: Tensor, nd: number, op: string, what: string): void {
  if (t.ndim !== nd) throw new TensorError(`${op}: ${what} must be ${nd}-d, got shape [${t.shape.join(', ')}]`);
}
