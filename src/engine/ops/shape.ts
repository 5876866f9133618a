/**
 * Shape and indexing ops with autograd: reshape (zero-copy view), unsqueeze/squeeze, transpose/permute (materialised
 * copies; prefer matmul's transpose flags where possible), concat, stack, slice (a view when it selects a contiguous
 * block), indexSelect (backend gatherRows; backward scatter-add) and embedding (token/position lookup, BERT §3).
 */
import { alloc, allocUninit } from '../pool.js';
import { record } from '../autograd.js';
import { getBackend } from '../backends/index.js';
import { Tensor, TensorError, shapeSize, normAxis, splitAt, permuteData, checkIndices } from './util.js';

function fmt(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

/** A view of a with a new shape (one dim may be -1). Shares data; backward passes the gradient through. */
export function reshape(a: Tensor, shape: readonly number[]): Tensor {
  let infer = -1;
  let known = 1;
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === -1) {
      if (infer >= 0) throw new TensorError(`reshape: more than one -1 in ${fmt(shape)}`);
      infer = i;
    } else if (!Number.isInteger(shape[i]) || shape[i] < 0) {
      throw new TensorError(`reshape: invalid dim in ${fmt(shape)}`);
    } else {
      known *= shape[i];
    }
  }
  const s = shape.slice();
  if (infer >= 0) {
    if (known === 0 || a.size % known !== 0) throw new TensorError(`reshape: cannot infer -1 reshaping ${fmt(a.shape)} to ${fmt(shape)}`);
    s[infer] = a.size / known;
  }
  if (shapeSize(s) !== a.size) throw new TensorError(`reshape: cannot reshape ${fmt(a.shape)} (size ${a.size}) to ${fmt(shape)}`);
  return record(new Tensor(a.data, s), [a], 'reshape', (g) => [g]);
}

/** Inserts a size-1 axis at `axis` (negative counts from the end of the result). */
export function unsqueeze(a: Tensor, axis: number): Tensor {
  const ax = normAxis(axis, a.ndim + 1, 'unsqueeze');
  const s = a.shape.slice();
  s.splice(ax, 0, 1);
  return reshape(a, s);
}

/** Removes a size-1 axis. */
export function squeeze(a: Tensor, axis: number): Tensor {
  const ax = normAxis(axis, a.ndim, 'squeeze');
  if (a.shape[ax] !== 1) throw new TensorError(`squeeze: axis ${axis} of ${fmt(a.shape)} is not 1`);
  const s = a.shape.slice();
  s.splice(ax, 1);
  return reshape(a, s);
}

/** Returns a (all tensors are contiguous); kept for API familiarity. */
export function contiguous(a: Tensor): Tensor {
  return a;
}

/** Reorders axes: result.shape[i] = a.shape[dims[i]]. Copies the data. */
export function permute(a: Tensor, dims: readonly number[]): Tensor {
  const nd = a.ndim;
  if (dims.length !== nd) throw new TensorError(`permute: dims ${fmt(dims)} do not match ${nd}-d tensor ${fmt(a.shape)}`);
  const d = dims.map((x) => normAxis(x, nd, 'permute'));
  if (new Set(d).size !== nd) throw new TensorError(`permute: dims ${fmt(dims)} are not a permutation`);
  if (d.every((x, i) => x === i)) return a;
  const outShape = d.map((x) => a.shape[x]);
  const inv = new Array<number>(nd);
  for (let i = 0; i < nd; i++) inv[d[i]] = i;
  const out = new Tensor(permuteData(a.data, a.shape, d), outShape);
  return record(out, [a], 'permute', (g) => [permuteData(g, outShape, inv)]);
}

/** Swaps two axes (copy). */
export function transpose(a: Tensor, d0: number, d1: number): Tensor {
  const x = normAxis(d0, a.ndim, 'transpose');
  const y = normAxis(d1, a.ndim, 'transpose');
  const dims = a.shape.map((_, i) => i);
  dims[x] = y;
  dims[y] = x;
  return permute(a, dims);
}

/** Concatenates tensors along `axis` (all other dims equal). */
export function concat(tensors: readonly Tensor[], axis: number): Tensor {
  if (tensors.length === 0) throw new TensorError('concat: empty tensor list');
  const nd = tensors[0].ndim;
  const ax = normAxis(axis, nd, 'concat');
  const base = tensors[0].shape;
  let total = 0;
  for (const t of tensors) {
    if (t.ndim !== nd || t.shape.some((s, i) => i !== ax && s !== base[i])) {
      throw new TensorError(`concat: shape ${fmt(t.shape)} does not match ${fmt(base)} except on axis ${ax}`);
    }
    total += t.shape[ax];
  }
  const outShape = base.slice();
  outShape[ax] = total;
  const [outer, , inner] = splitAt(outShape, ax);
  const out = allocUninit(shapeSize(outShape));
  const rowOut = total * inner;
  let off = 0;
  const offs: number[] = [];
  for (const t of tensors) {
    const w = t.shape[ax] * inner;
    offs.push(off);
    for (let o = 0; o < outer; o++) out.set(t.data.subarray(o * w, o * w + w), o * rowOut + off);
    off += w;
  }
  return record(new Tensor(out, outShape), tensors, 'concat', (g) =>
    tensors.map((t, k) => {
      if (!t.requiresGrad) return null;
      const w = t.shape[ax] * inner;
      const r = allocUninit(t.size);
      for (let o = 0; o < outer; o++) r.set(g.subarray(o * rowOut + offs[k], o * rowOut + offs[k] + w), o * w);
      return r;
    }),
  );
}

/** Stacks equal-shaped tensors along a new axis. */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new TensorError('stack: empty tensor list');
  const ax = normAxis(axis, tensors[0].ndim + 1, 'stack');
  return concat(tensors.map((t) => unsqueeze(t, ax)), ax);
}

/**
 * Elements [start, end) along `axis` (negative values count from the end; end defaults to the axis length).
 * Zero-copy view when every axis before `axis` has size 1.
 */
export function slice(a: Tensor, axis: number, start: number, end?: number): Tensor {
  const ax = normAxis(axis, a.ndim, 'slice');
  const len = a.shape[ax];
  let s = start < 0 ? start + len : start;
  let e = end === undefined ? len : end < 0 ? end + len : end;
  s = Math.min(Math.max(s, 0), len);
  e = Math.min(Math.max(e, s), len);
  const [outer, , inner] = splitAt(a.shape, ax);
  const outShape = a.shape.slice();
  outShape[ax] = e - s;
  const w = (e - s) * inner;
  let data: Float32Array;
  if (outer === 1) {
    data = a.data.subarray(s * inner, e * inner);
  } else {
    data = allocUninit(outer * w);
    for (let o = 0; o < outer; o++) data.set(a.data.subarray(o * len * inner + s * inner, o * len * inner + e * inner), o * w);
  }
  return record(new Tensor(data, outShape), [a], 'slice', (g) => {
    const r = alloc(a.size);
    for (let o = 0; o < outer; o++) r.set(g.subarray(o * w, o * w + w), o * len * inner + s * inner);
    return [r];
  });
}

/**
 * Selects entries idx along `axis`: result.shape[axis] = idx.length. Backend gatherRows per outer block;
 * backward scatter-adds (repeated indices accumulate).
 */
export function indexSelect(a: Tensor, axis: number, idx: Int32Array): Tensor {
  const ax = normAxis(axis, a.ndim, 'indexSelect');
  const [outer, n, inner] = splitAt(a.shape, ax);
  checkIndices(idx, n, `indexSelect(axis ${ax} of ${fmt(a.shape)})`);
  const be = getBackend();
  const outShape = a.shape.slice();
  outShape[ax] = idx.length;
  const out = allocUninit(shapeSize(outShape));
  const ow = idx.length * inner;
  const iw = n * inner;
  if (inner > 0) {
    for (let o = 0; o < outer; o++) be.gatherRows(a.data.subarray(o * iw, o * iw + iw), idx, out.subarray(o * ow, o * ow + ow), inner);
  }
  const ids = idx.slice();
  return record(new Tensor(out, outShape), [a], 'indexSelect', (g) => {
    const r = alloc(a.size);
    if (inner > 0) {
      for (let o = 0; o < outer; o++) be.scatterAddRows(g.subarray(o * ow, o * ow + ow), ids, r.subarray(o * iw, o * iw + iw), inner);
    }
    return [r];
  });
}

/** Embedding lookup: weight [V, H], ids [n] -> [n, H]. Backward scatter-adds rows into a dense [V, H] gradient. */
export function embedding(weight: Tensor, ids: Int32Array): Tensor {
  if (weight.ndim !== 2) throw new TensorError(`embedding: weight must be [V, H], got ${fmt(weight.shape)}`);
  return indexSelect(weight, 0, ids);
}
