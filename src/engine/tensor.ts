/**
 * The `Tensor`: a dense, contiguous, row-major float32 array with a shape, plus the fields reverse-mode autograd needs.
 *
 * Every tensor is contiguous (ops that reorder axes materialise a copy), so `reshape` and leading-axis `slice` are
 * zero-copy views sharing `data`. Leaves created with `requiresGrad` (parameters) receive gradients in `.grad` after
 * `backward`; intermediate results carry a `gradFn` linking them to their inputs (see ./autograd.ts).
 */
import type { GradFn } from './autograd.js';
import { backward as runBackward } from './autograd.js';
import type { Rng } from './rng.js';

/** Raised on shape/argument errors in tensor construction and ops. */
export class TensorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TensorError';
  }
}

/** Product of the dimensions (1 for a scalar shape []). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function checkShape(shape: readonly number[], what: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new TensorError(`${what}: invalid shape [${shape.join(', ')}]`);
  }
}

/** Nested JS arrays mirroring a tensor's shape (`toArray()`). */
export type NestedArray = number | NestedArray[];

/** Dense float32 tensor with optional autograd tracking. */
export class Tensor {
  /** Row-major contiguous values; length === size. May be a view shared with other tensors. */
  data: Float32Array;
  /** Dimensions; [] for a scalar. */
  shape: number[];
  /** Whether gradients flow to / through this tensor. */
  requiresGrad: boolean;
  /** Accumulated gradient (leaves only), same shape as this tensor; null until the first backward. */
  grad: Tensor | null = null;
  /** The op that produced this tensor (null for leaves and for results built without grad tracking). */
  gradFn: GradFn | null = null;
  /** Autograd scratch: gradient flowing into this non-leaf during backward. */
  _gradBuf: Float32Array | null = null;
  /** Autograd scratch: whether `_gradBuf` is exclusively owned (may be mutated in place). */
  _gradOwned = false;
  /** Optional debug name (parameters get their dotted name). */
  name: string | undefined;

  constructor(data: Float32Array, shape: readonly number[], requiresGrad = false) {
    checkShape(shape, 'Tensor');
    const n = shapeSize(shape);
    if (data.length !== n) {
      throw new TensorError(`Tensor: data length ${data.length} does not match shape [${shape.join(', ')}] (size ${n})`);
    }
    this.data = data;
    this.shape = shape.slice();
    this.requiresGrad = requiresGrad;
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** True when no op produced this tensor (parameters, inputs). */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.data.length !== 1) throw new TensorError(`item(): tensor of shape [${this.shape.join(', ')}] has ${this.size} elements`);
    return this.data[0];
  }

  /** Values as nested JS arrays following the shape (a plain number for a scalar). */
  toArray(): NestedArray {
    const rec = (dim: number, off: number): NestedArray => {
      if (dim === this.shape.length) return this.data[off];
      const stride = shapeSize(this.shape.slice(dim + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < this.shape[dim]; i++) out.push(rec(dim + 1, off + i * stride));
      return out;
    };
    return rec(0, 0);
  }

  /** Marks this leaf as requiring gradients (in place); returns this. */
  requiresGrad_(flag = true): this {
    if (this.gradFn && !flag) throw new TensorError('requiresGrad_(false) on a non-leaf tensor; use detach()');
    this.requiresGrad = flag;
    return this;
  }

  /** A leaf sharing this tensor's data, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape, false);
  }

  /** A leaf with a copy of the data. */
  clone(): Tensor {
    return new Tensor(new Float32Array(this.data), this.shape, false);
  }

  /** Runs reverse-mode autograd from this tensor (see autograd.backward). */
  backward(grad?: Tensor | Float32Array, opts?: { retainGraph?: boolean; freeActivations?: boolean }): void {
    runBackward(this, grad, opts);
  }

  /** Sets `.grad` to null (frees it). */
  zeroGrad(): void {
    this.grad = null;
  }

  toString(): string {
    return `Tensor(shape=[${this.shape.join(', ')}]${this.requiresGrad ? ', requiresGrad' : ''}${this.name ? `, name=${this.name}` : ''})`;
  }

  static zeros(shape: readonly number[]): Tensor {
    checkShape(shape, 'Tensor.zeros');
    return new Tensor(new Float32Array(shapeSize(shape)), shape);
  }

  static ones(shape: readonly number[]): Tensor {
    return Tensor.full(shape, 1);
  }

  static full(shape: readonly number[], value: number): Tensor {
    checkShape(shape, 'Tensor.full');
    return new Tensor(new Float32Array(shapeSize(shape)).fill(value), shape);
  }

  /** Copies `data` (any numeric array-like) into a new tensor of the given shape. */
  static fromArray(data: ArrayLike<number>, shape?: readonly number[]): Tensor {
    const s = shape ?? [data.length];
    checkShape(s, 'Tensor.fromArray');
    if (data.length !== shapeSize(s)) {
      throw new TensorError(`Tensor.fromArray: ${data.length} values do not fit shape [${s.join(', ')}]`);
    }
    return new Tensor(Float32Array.from(data), s);
  }

  /** A 0-d tensor. */
  static scalar(value: number): Tensor {
    return new Tensor(Float32Array.of(value), []);
  }

  /** N(mean, std^2) samples; note the argument order (shape, rng, std, mean). */
  static randn(shape: readonly number[], rng: Rng, std = 1, mean = 0): Tensor {
    const t = Tensor.zeros(shape);
    rng.fillNormal(t.data, mean, std);
    return t;
  }

  /** U[lo, hi) samples. */
  static uniform(shape: readonly number[], rng: Rng, lo = 0, hi = 1): Tensor {
    const t = Tensor.zeros(shape);
    rng.fillUniform(t.data, lo, hi);
    return t;
  }

  /** A trainable leaf: copies `data` (or takes a Float32Array without copying) and sets requiresGrad. */
  static param(data: ArrayLike<number> | Float32Array, shape: readonly number[], name?: string): Tensor {
    const t = data instanceof Float32Array ? new Tensor(data, shape) : Tensor.fromArray(data, shape);
    t.requiresGrad = true;
    t.name = name;
    return t;
  }
}

/** A trainable leaf tensor (see Tensor.param). */
export function param(data: ArrayLike<number> | Float32Array, shape: readonly number[], name?: string): Tensor {
  return Tensor.param(data, shape, name);
}
