/**
 * Element-wise autograd ops: broadcasting arithmetic (add, sub, mul, div), scalar arithmetic, unary maths
 * (exp, log, sqrt, tanh, relu, sigmoid, gelu) and maskedFill. GELU uses the backend kernel (BERT's FFN activation).
 * Binary ops follow NumPy broadcasting in both directions; their backward sums over the broadcast axes.
 */
import { record, needsGrad } from '../autograd.js';
import { getBackend } from '../backends/index.js';
import { Tensor, TensorError, broadcastBinary, broadcastShapes, reduceToShape, shapeSize, broadcastStrides, sameShape } from './util.js';

type Operand = Tensor | number;

function asTensor(x: Operand): Tensor {
  return typeof x === 'number' ? Tensor.scalar(x) : x;
}

function binaryForward(a: Tensor, b: Tensor, op: string, f: (x: number, y: number) => number): Tensor {
  const shape = broadcastShapes(a.shape, b.shape, op);
  const out = new Tensor(new Float32Array(shapeSize(shape)), shape);
  broadcastBinary(a.data, a.shape, b.data, b.shape, shape, out.data, f);
  return out;
}

/** a + b with broadcasting. */
export function add(a: Operand, b: Operand): Tensor {
  if (typeof b === 'number' && typeof a !== 'number') return addScalar(a, b);
  if (typeof a === 'number' && typeof b !== 'number') return addScalar(b, a);
  const ta = asTensor(a);
  const tb = asTensor(b);
  const out = binaryForward(ta, tb, 'add', (x, y) => x + y);
  return record(out, [ta, tb], 'add', (g) => [
    ta.requiresGrad ? reduceToShape(g, out.shape, ta.shape) : null,
    tb.requiresGrad ? reduceToShape(g, out.shape, tb.shape) : null,
  ]);
}

/** a - b with broadcasting. */
export function sub(a: Operand, b: Operand): Tensor {
  if (typeof b === 'number' && typeof a !== 'number') return addScalar(a, -b);
  const ta = asTensor(a);
  const tb = asTensor(b);
  const out = binaryForward(ta, tb, 'sub', (x, y) => x - y);
  return record(out, [ta, tb], 'sub', (g) => {
    let gb: Float32Array | null = null;
    if (tb.requiresGrad) {
      const r = reduceToShape(g, out.shape, tb.shape);
      gb = new Float32Array(r.length);
      for (let i = 0; i < r.length; i++) gb[i] = -r[i];
    }
    return [ta.requiresGrad ? reduceToShape(g, out.shape, ta.shape) : null, gb];
  });
}

/** g * other, broadcast to the output shape and reduced to `target`'s shape. */
function gradTimes(g: Float32Array, outShape: number[], other: Tensor, target: Tensor, f: (g: number, y: number) => number): Float32Array {
  const tmp = new Float32Array(g.length);
  broadcastBinary(g, outShape, other.data, other.shape, outShape, tmp, f);
  const r = reduceToShape(tmp, outShape, target.shape);
  return r;
}

/** a * b with broadcasting. */
export function mul(a: Operand, b: Operand): Tensor {
  if (typeof b === 'number' && typeof a !== 'number') return scale(a, b);
  if (typeof a === 'number' && typeof b !== 'number') return scale(b, a);
  const ta = asTensor(a);
  const tb = asTensor(b);
  const out = binaryForward(ta, tb, 'mul', (x, y) => x * y);
  return record(out, [ta, tb], 'mul', (g) => [
    ta.requiresGrad ? gradTimes(g, out.shape, tb, ta, (x, y) => x * y) : null,
    tb.requiresGrad ? gradTimes(g, out.shape, ta, tb, (x, y) => x * y) : null,
  ]);
}

/** a / b with broadcasting. */
export function div(a: Operand, b: Operand): Tensor {
  if (typeof b === 'number' && typeof a !== 'number') return scale(a, 1 / b);
  const ta = asTensor(a);
  const tb = asTensor(b);
  const out = binaryForward(ta, tb, 'div', (x, y) => x / y);
  return record(out, [ta, tb], 'div', (g) => {
    const ga = ta.requiresGrad ? gradTimes(g, out.shape, tb, ta, (x, y) => x / y) : null;
    let gb: Float32Array | null = null;
    if (tb.requiresGrad) {
      // d(a/b)/db = -out / b
      const tmp = new Float32Array(g.length);
      broadcastBinary(out.data, out.shape, tb.data, tb.shape, out.shape, tmp, (o, y) => -o / y);
      for (let i = 0; i < tmp.length; i++) tmp[i] *= g[i];
      gb = reduceToShape(tmp, out.shape, tb.shape);
    }
    return [ga, gb];
  });
}

/** a * s for a number s. */
export function scale(a: Tensor, s: number): Tensor {
  const n = a.size;
  const o = new Float32Array(n);
  const x = a.data;
  for (let i = 0; i < n; i++) o[i] = x[i] * s;
  const out = new Tensor(o, a.shape);
  return record(out, [a], 'scale', (g) => {
    const r = new Float32Array(n);
    for (let i = 0; i < n; i++) r[i] = g[i] * s;
    return [r];
  });
}

/** a + s for a number s. */
export function addScalar(a: Tensor, s: number): Tensor {
  const n = a.size;
  const o = new Float32Array(n);
  const x = a.data;
  for (let i = 0; i < n; i++) o[i] = x[i] + s;
  return record(new Tensor(o, a.shape), [a], 'addScalar', (g) => [g]);
}

/** -a. */
export function neg(a: Tensor): Tensor {
  return scale(a, -1);
}

/**
 * Builds a unary op from its forward f(x) and derivative expressed through (x, y = f(x)).
 * The backward multiplies g by dfdx(x, y) element-wise.
 */
function unary(name: string, f: (x: number) => number, dfdx: (x: number, y: number) => number): (a: Tensor) => Tensor {
  return (a: Tensor): Tensor => {
    const n = a.size;
    const x = a.data;
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) y[i] = f(x[i]);
    return record(new Tensor(y, a.shape), [a], name, (g) => {
      const r = new Float32Array(n);
      for (let i = 0; i < n; i++) r[i] = g[i] * dfdx(x[i], y[i]);
      return [r];
    });
  };
}

/** e^a. */
export const exp = unary('exp', Math.exp, (_x, y) => y);
/** Natural log. */
export const log = unary('log', Math.log, (x) => 1 / x);
/** Square root. */
export const sqrt = unary('sqrt', Math.sqrt, (_x, y) => 0.5 / y);
/** Hyperbolic tangent. */
export const tanh = unary('tanh', Math.tanh, (_x, y) => 1 - y * y);
/** max(a, 0) (gradient 0 at 0). */
export const relu = unary('relu', (x) => (x > 0 ? x : 0), (x) => (x > 0 ? 1 : 0));
/** Logistic sigmoid. */
export const sigmoid = unary(
  'sigmoid',
  (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  (_x, y) => y * (1 - y),
);

/** GELU: exact erf form ('none', BERT) or the tanh approximation ('tanh'). Backend kernel. */
export function gelu(a: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  if (approximate !== 'none' && approximate !== 'tanh') throw new TensorError(`gelu: approximate must be 'none' or 'tanh', got ${approximate}`);
  const be = getBackend();
  const n = a.size;
  const tanhApprox = approximate === 'tanh';
  const y = new Float32Array(n);
  be.gelu(a.data, y, n, tanhApprox);
  return record(new Tensor(y, a.shape), [a], 'gelu', (g) => {
    const r = new Float32Array(n);
    be.geluBackward(a.data, g, r, n, tanhApprox);
    return [r];
  });
}

/**
 * Where mask != 0, replace x by `value` (gradient 0 there). mask has shape `maskShape`, broadcastable to x.shape
 * (e.g. an attention padding mask [B, 1, 1, S] against scores [B, heads, S, S]).
 */
export function maskedFill(x: Tensor, mask: Uint8Array, maskShape: readonly number[], value: number): Tensor {
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
