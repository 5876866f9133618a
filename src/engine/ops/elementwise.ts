/**
 * Element-wise autograd ops: broadcasting arithmetic (add, sub, mul, div), scalar arithmetic, unary maths
 * (exp, log, sqrt, tanh, relu, sigmoid, gelu) and maskedFill. GELU uses the backend kernel (BERT's FFN activation).
 * Binary ops follow NumPy broadcasting in both directions; their backward sums over the broadcast axes.
 */
import { allocUninit, release } from '../pool.js';
import { record, needsGrad } from '../autograd.js';
import { getBackend } from '../backends/index.js';
import { Tensor, TensorError, broadcastShapes, reduceToShape, shapeSize, broadcastStrides, sameShape } from './util.js';
import { ADD, SUB, MUL, DIV, binaryBroadcast, type BinaryOp } from './binary-kernels.js';

type Operand = Tensor | number;

function asTensor(x: Operand): Tensor {
  return typeof x === 'number' ? Tensor.scalar(x) : x;
}

function binaryForward(a: Tensor, b: Tensor, op: BinaryOp, name: string): Tensor {
  const shape = broadcastShapes(a.shape, b.shape, name);
  const out = new Tensor(allocUninit(shapeSize(shape)), shape);
  binaryBroadcast(op, a.data, a.shape, b.data, b.shape, shape, out.data);
  return out;
}

/** g op other (other broadcast to g's shape), then summed down to `target`'s shape. */
function gradOp(op: BinaryOp, g: Float32Array, outShape: number[], other: Tensor, target: Tensor): Float32Array {
  const tmp = allocUninit(g.length);
  binaryBroadcast(op, g, outShape, other.data, other.shape, outShape, tmp);
  const r = reduceToShape(tmp, outShape, target.shape);
  if (r !== tmp) release(tmp);
  return r;
}

function negated(r: Float32Array): Float32Array {
  const o = allocUninit(r.length);
  for (let i = 0; i < r.length; i++) o[i] = -r[i];
  return o;
}

/** a + b with broadcasting (either may be a number). */
export function add(a: Operand, b: Operand): Tensor {
  if (typeof b === 'number' && typeof a !== 'number') return addScalar(a, b);
  if (typeof a === 'number' && typeof b !== 'number') return addScalar(b, a);
  const ta = asTensor(a);
  const tb = asTensor(b);
  const out = binaryForward(ta, tb, ADD, 'add');
  return record(out, [ta, tb], 'add', (g) => [
    ta.requiresGrad ? reduceToShape(g, out.shape, ta.shape) : null,
    tb.requiresGrad ? reduceToShape(g, out.shape, tb.shape) : null,
  ]);
}

/** a - b with broadcasting (either may be a number). */
export function sub(a: Operand, b: Operand): Tensor {
  if (typeof b === 'number' && typeof a !== 'number') return addScalar(a, -b);
  if (typeof a === 'number' && typeof b !== 'number') return addScalar(neg(b), a);
  const ta = asTensor(a);
  const tb = asTensor(b);
  const out = binaryForward(ta, tb, SUB, 'sub');
  return record(out, [ta, tb], 'sub', (g) => [
    ta.requiresGrad ? reduceToShape(g, out.shape, ta.shape) : null,
    tb.requiresGrad ? negated(reduceToShape(g, out.shape, tb.shape)) : null,
  ]);
}

/** a * b with broadcasting (either may be a number). */
export function mul(a: Operand, b: Operand): Tensor {
  if (typeof b === 'number' && typeof a !== 'number') return scale(a, b);
  if (typeof a === 'number' && typeof b !== 'number') return scale(b, a);
  const ta = asTensor(a);
  const tb = asTensor(b);
  const out = binaryForward(ta, tb, MUL, 'mul');
  return record(out, [ta, tb], 'mul', (g) => [
    ta.requiresGrad ? gradOp(MUL, g, out.shape, tb, ta) : null,
    tb.requiresGrad ? gradOp(MUL, g, out.shape, ta, tb) : null,
  ]);
}

/** a / b with broadcasting (either may be a number). */
export function div(a: Operand, b: Operand): Tensor {
  if (typeof b === 'number' && typeof a !== 'number') return scale(a, 1 / b);
  const ta = asTensor(a);
  const tb = asTensor(b);
  const out = binaryForward(ta, tb, DIV, 'div');
  return record(out, [ta, tb], 'div', (g) => {
    // d/da = g / b;  d/db = -g * out / b = -(g / b) * out
    const gOverB = allocUninit(g.length);
    binaryBroadcast(DIV, g, out.shape, tb.data, tb.shape, out.shape, gOverB);
    let gb: Float32Array | null = null;
    if (tb.requiresGrad) {
      const t = allocUninit(g.length);
      const o = out.data;
      for (let i = 0; i < t.length; i++) t[i] = -gOverB[i] * o[i];
      gb = reduceToShape(t, out.shape, tb.shape);
      if (gb !== t) release(t);
    }
    const ga = ta.requiresGrad ? reduceToShape(gOverB, out.shape, ta.shape) : null;
    if (ga !== gOverB) release(gOverB);
    return [ga, gb];
  });
}

/** a * s for a number s. */
export function scale(a: Tensor, s: number): Tensor {
  const n = a.size;
  const o = allocUninit(n);
  const x = a.data;
  for (let i = 0; i < n; i++) o[i] = x[i] * s;
  const out = new Tensor(o, a.shape);
  return record(out, [a], 'scale', (g) => {
    const r = allocUninit(n);
    for (let i = 0; i < n; i++) r[i] = g[i] * s;
    return [r];
  });
}

/** a + s for a number s. */
export function addScalar(a: Tensor, s: number): Tensor {
  const n = a.size;
  const o = allocUninit(n);
  const x = a.data;
  for (let i = 0; i < n; i++) o[i] = x[i] + s;
  return record(new Tensor(o, a.shape), [a], 'addScalar', (g) => [g]);
}

/** -a. */
export function neg(a: Tensor): Tensor {
  return scale(a, -1);
}

/** Records a unary op whose backward is r = g * d, with d precomputed lazily by `deriv` into r. */
function unaryRecord(a: Tensor, y: Float32Array, name: string, deriv: (g: Float32Array, r: Float32Array) => void): Tensor {
  return record(new Tensor(y, a.shape), [a], name, (g) => {
    const r = allocUninit(a.size);
    deriv(g, r);
    return [r];
  });
}

/** e^a. */
export function exp(a: Tensor): Tensor {
  const x = a.data;
  const n = x.length;
  const y = allocUninit(n);
  for (let i = 0; i < n; i++) y[i] = Math.exp(x[i]);
  return unaryRecord(a, y, 'exp', (g, r) => {
    for (let i = 0; i < n; i++) r[i] = g[i] * y[i];
  });
}

/** Natural log. */
export function log(a: Tensor): Tensor {
  const x = a.data;
  const n = x.length;
  const y = allocUninit(n);
  for (let i = 0; i < n; i++) y[i] = Math.log(x[i]);
  return unaryRecord(a, y, 'log', (g, r) => {
    for (let i = 0; i < n; i++) r[i] = g[i] / x[i];
  });
}

/** Square root. */
export function sqrt(a: Tensor): Tensor {
  const x = a.data;
  const n = x.length;
  const y = allocUninit(n);
  for (let i = 0; i < n; i++) y[i] = Math.sqrt(x[i]);
  return unaryRecord(a, y, 'sqrt', (g, r) => {
    for (let i = 0; i < n; i++) r[i] = (0.5 * g[i]) / y[i];
  });
}

/** Hyperbolic tangent (via exp: faster than Math.tanh in V8, exact to float32). */
export function tanh(a: Tensor): Tensor {
  const x = a.data;
  const n = x.length;
  const y = allocUninit(n);
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (v > 20) y[i] = 1;
    else if (v < -20) y[i] = -1;
    else if (v > -0.05 && v < 0.05) y[i] = Math.tanh(v); // avoid cancellation near 0
    else {
      const e = Math.exp(2 * v);
      y[i] = (e - 1) / (e + 1);
    }
  }
  return unaryRecord(a, y, 'tanh', (g, r) => {
    for (let i = 0; i < n; i++) r[i] = g[i] * (1 - y[i] * y[i]);
  });
}

/** max(a, 0) (gradient 0 at 0). */
export function relu(a: Tensor): Tensor {
  const x = a.data;
  const n = x.length;
  const y = allocUninit(n);
  for (let i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0;
  return unaryRecord(a, y, 'relu', (g, r) => {
    for (let i = 0; i < n; i++) r[i] = x[i] > 0 ? g[i] : 0;
  });
}

/** Logistic sigmoid. */
export function sigmoid(a: Tensor): Tensor {
  const x = a.data;
  const n = x.length;
  const y = allocUninit(n);
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (v >= 0) y[i] = 1 / (1 + Math.exp(-v));
    else {
      const e = Math.exp(v);
      y[i] = e / (1 + e);
    }
  }
  return unaryRecord(a, y, 'sigmoid', (g, r) => {
    for (let i = 0; i < n; i++) r[i] = g[i] * y[i] * (1 - y[i]);
  });
}

/** GELU: exact erf form ('none', BERT) or the tanh approximation ('tanh'). Backend kernel. */
export function gelu(a: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  if (approximate !== 'none' && approximate !== 'tanh') throw new TensorError(`gelu: approximate must be 'none' or 'tanh', got ${approximate}`);
  const be = getBackend();
  const n = a.size;
  const tanhApprox = approximate === 'tanh';
  const y = allocUninit(n);
  be.gelu(a.data, y, n, tanhApprox);
  return record(new Tensor(y, a.shape), [a], 'gelu', (g) => {
    const r = allocUninit(n);
    be.geluBackward(a.data, g, r, n, tanhApprox);
    return [r];
  });
}

/**
 * Where mask != 0, replace x by `value` (gradient 0 there). mask has shape `maskShape`, broadcastable to x.shape
 * (e.g. an attention padding mask [B, 1, 1, S] against scores [B, heads, S, S]); with three arguments the mask has
 * x's shape. For attention, prefer the additive form (`attentionMaskBias` + add), which is what BERT does.
 */
export function maskedFill(x: Tensor, mask: Uint8Array, value: number): Tensor;
export function maskedFill(x: Tensor, mask: Uint8Array, maskShape: readonly number[], value: number): Tensor;
export function maskedFill(x: Tensor, mask: Uint8Array, shapeOrValue: readonly number[] | number, v?: number): Tensor {
  const maskShape = typeof shapeOrValue === 'number' ? x.shape : shapeOrValue;
  const value = typeof shapeOrValue === 'number' ? shapeOrValue : (v as number);
  if (typeof value !== 'number') throw new TensorError('maskedFill: missing fill value');
  if (mask.length !== shapeSize(maskShape)) {
    throw new TensorError(`maskedFill: mask length ${mask.length} does not match maskShape [${maskShape.join(', ')}]`);
  }
  const shape = broadcastShapes(x.shape, maskShape, 'maskedFill');
  if (!sameShape(shape, x.shape)) {
    throw new TensorError(`maskedFill: mask shape [${maskShape.join(', ')}] does not broadcast to x [${x.shape.join(', ')}]`);
  }
  const n = x.size;
  const full = expandMask(mask, maskShape, x.shape);
  const o = new Float32Array(x.data);
  for (let i = 0; i < n; i++) if (full[i]) o[i] = value;
  const out = new Tensor(o, x.shape);
  if (!needsGrad(x)) return out;
  return record(out, [x], 'maskedFill', (g) => {
    const r = new Float32Array(g);
    for (let i = 0; i < n; i++) if (full[i]) r[i] = 0;
    return [r];
  });
}

/** Materialises a broadcastable Uint8 mask at the full target shape. */
function expandMask(mask: Uint8Array, maskShape: readonly number[], shape: readonly number[]): Uint8Array {
  const n = shapeSize(shape);
  if (mask.length === n) return mask;
  const full = new Uint8Array(n);
  const nd = shape.length;
  const st = broadcastStrides(maskShape, shape);
  const idx = new Array<number>(nd).fill(0);
  for (let o = 0; o < n; o++) {
    let mi = 0;
    for (let d = 0; d < nd; d++) mi += idx[d] * st[d];
    full[o] = mask[mi];
    for (let d = nd - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return full;
}
