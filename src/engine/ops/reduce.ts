/**
 * Reductions and normalisers with autograd: sum, mean, max (gradient to the first argmax), logsumexp (REALM's
 * marginalisation over retrieved documents, §2.2), softmax and logSoftmax (backend row kernels on the last axis;
 * other axes are moved last first).
 */
import { alloc, allocUninit } from '../pool.js';
import { record } from '../autograd.js';
import { getBackend } from '../backends/index.js';
import { Tensor, TensorError, normAxis, splitAt } from './util.js';
import { transpose } from './shape.js';

type Axes = number | readonly number[] | undefined;

function reducedShape(shape: readonly number[], ax: number, keepdim: boolean): number[] {
  const s = shape.slice();
  if (keepdim) s[ax] = 1;
  else s.splice(ax, 1);
  return s;
}

/** Sum over one axis of a contiguous array viewed as [outer, n, inner]. */
function sumAxis(a: Tensor, ax: number, keepdim: boolean): Tensor {
  const [outer, n, inner] = splitAt(a.shape, ax);
  const x = a.data;
  const out = new Float32Array(outer * inner);
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    const base = o * n * inner;
    for (let k = 0; k < n; k++) {
      const b = base + k * inner;
      for (let i = 0; i < inner; i++) acc[i] += x[b + i];
    }
    out.set(acc, o * inner);
  }
  return record(new Tensor(out, reducedShape(a.shape, ax, keepdim)), [a], 'sum', (g) => {
    const r = allocUninit(a.size);
    for (let o = 0; o < outer; o++) {
      const gs = g.subarray(o * inner, o * inner + inner);
      for (let k = 0; k < n; k++) r.set(gs, (o * n + k) * inner);
    }
    return [r];
  });
}

/** Sum of all elements (axis undefined) or over the given axis/axes. */
export function sum(a: Tensor, axis?: Axes, keepdim = false): Tensor {
  if (axis === undefined) {
    let s = 0;
    const x = a.data;
    for (let i = 0; i < x.length; i++) s += x[i];
    const out = new Tensor(Float32Array.of(s), keepdim ? a.shape.map(() => 1) : []);
    return record(out, [a], 'sum', (g) => [allocUninit(a.size).fill(g[0])]);
  }
  const axes = (typeof axis === 'number' ? [axis] : [...axis]).map((x) => normAxis(x, a.ndim, 'sum'));
  if (new Set(axes).size !== axes.length) throw new TensorError(`sum: repeated axis in [${axes.join(', ')}]`);
  axes.sort((p, q) => q - p); // highest first so earlier axis numbers stay valid
  let t = a;
  for (const ax of axes) t = sumAxis(t, ax, keepdim);
  return t;
}

/** Mean over all elements or the given axis/axes. */
export function mean(a: Tensor, axis?: Axes, keepdim = false): Tensor {
  let count = a.size;
  if (axis !== undefined) {
    const axes = typeof axis === 'number' ? [axis] : axis;
    count = 1;
    for (const x of axes) count *= a.shape[normAxis(x, a.ndim, 'mean')];
  }
  const s = sum(a, axis, keepdim);
  const inv = count === 0 ? NaN : 1 / count;
  const d = new Float32Array(s.size);
  for (let i = 0; i < d.length; i++) d[i] = s.data[i] * inv;
  return record(new Tensor(d, s.shape), [s], 'mean', (g) => {
    const r = new Float32Array(g.length);
    for (let i = 0; i < r.length; i++) r[i] = g[i] * inv;
    return [r];
  });
}

/** Maximum over all elements or one axis; the gradient goes to the first maximal element. */
export function max(a: Tensor, axis?: number, keepdim = false): Tensor {
  if (a.size === 0) throw new TensorError('max: empty tensor');
  const ax = axis === undefined ? -1 : normAxis(axis, a.ndim, 'max');
  const [outer, n, inner] = ax < 0 ? [1, a.size, 1] : splitAt(a.shape, ax);
  const outShape = ax < 0 ? (keepdim ? a.shape.map(() => 1) : []) : reducedShape(a.shape, ax, keepdim);
  const x = a.data;
  const out = new Float32Array(outer * inner);
  const arg = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = -Infinity;
      let bi = 0;
      for (let k = 0; k < n; k++) {
        const v = x[(o * n + k) * inner + i];
        if (v > best || Number.isNaN(v)) {
          best = v;
          bi = k;
          if (Number.isNaN(v)) break;
        }
      }
      out[o * inner + i] = n > 0 ? x[(o * n + bi) * inner + i] : -Infinity;
      arg[o * inner + i] = bi;
    }
  }
  return record(new Tensor(out, outShape), [a], 'max', (g) => {
    const r = alloc(a.size);
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) r[(o * n + arg[o * inner + i]) * inner + i] = g[o * inner + i];
    return [r];
  });
}

/** log(sum(exp(a))) over `axis`, numerically stable; gradient = g * softmax(a). */
export function logsumexp(a: Tensor, axis: number, keepdim = false): Tensor {
  const ax = normAxis(axis, a.ndim, 'logsumexp');
  const [outer, n, inner] = splitAt(a.shape, ax);
  const x = a.data;
  const out = new Float32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let m = -Infinity;
      for (let k = 0; k < n; k++) m = Math.max(m, x[(o * n + k) * inner + i]);
      if (m === -Infinity || m === Infinity) {
        out[o * inner + i] = m;
        continue;
      }
      let s = 0;
      for (let k = 0; k < n; k++) s += Math.exp(x[(o * n + k) * inner + i] - m);
      out[o * inner + i] = m + Math.log(s);
    }
  }
  return record(new Tensor(out, reducedShape(a.shape, ax, keepdim)), [a], 'logsumexp', (g) => {
    const r = alloc(a.size);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const l = out[o * inner + i];
        const gi = g[o * inner + i];
        if (l === -Infinity) continue;
        for (let k = 0; k < n; k++) {
          const p = (o * n + k) * inner + i;
          r[p] = gi * Math.exp(x[p] - l);
        }
      }
    }
    return [r];
  });
}

/** Softmax along `axis` (default last). Backend softmaxRows / softmaxBackward. */
export function softmax(a: Tensor, axis = -1): Tensor {
  const ax = normAxis(axis, a.ndim, 'softmax');
  if (ax !== a.ndim - 1) return transpose(softmax(transpose(a, ax, -1), -1), ax, -1);
  const be = getBackend();
  const cols = a.shape[ax];
  const rows = cols === 0 ? 0 : a.size / cols;
  const y = allocUninit(a.size);
  be.softmaxRows(a.data, y, rows, cols);
  return record(new Tensor(y, a.shape), [a], 'softmax', (g) => {
    const r = allocUninit(a.size);
    be.softmaxBackward(y, g, r, rows, cols);
    return [r];
  });
}

/** Log-softmax along `axis` (default last); backward dx = g - softmax * sum(g). */
export function logSoftmax(a: Tensor, axis = -1): Tensor {
  const ax = normAxis(axis, a.ndim, 'logSoftmax');
  if (ax !== a.ndim - 1) return transpose(logSoftmax(transpose(a, ax, -1), -1), ax, -1);
  const be = getBackend();
  const cols = a.shape[ax];
  const rows = cols === 0 ? 0 : a.size / cols;
  const y = allocUninit(a.size);
  be.logSoftmaxRows(a.data, y, rows, cols);
  return record(new Tensor(y, a.shape), [a], 'logSoftmax', (g) => {
    const r = allocUninit(a.size);
    for (let row = 0; row < rows; row++) {
      const o = row * cols;
      let s = 0;
      for (let j = 0; j < cols; j++) s += g[o + j];
      for (let j = 0; j < cols; j++) r[o + j] = g[o + j] - Math.exp(y[o + j]) * s;
    }
    return [r];
  });
}
