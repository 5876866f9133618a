/**
 * Graph-based reverse-mode automatic differentiation.
 *
 * Each op output that depends on a tensor requiring grad gets a `GradFn` holding its inputs and a closure mapping the
 * output gradient to input gradients. `backward(loss)` topologically sorts the graph reachable from the loss, walks it
 * in reverse, accumulates gradients into the `.grad` of leaves (summing across calls, like PyTorch) and then frees
 * the graph (closures and saved buffers) unless `retainGraph` is set. `noGrad(fn)` runs fn without recording a graph.
 *
 * Backward-closure rule (for op authors): each returned array must be either the incoming gradient `g` itself or a
 * freshly allocated array referenced nowhere else (never a subarray of `g` or a saved forward buffer). The engine
 * adopts fresh arrays without copying and copies borrowed ones before accumulating in place, and recycles fresh
 * gradient buffers through ./pool.ts once consumed. A `release` hook (called when the graph is freed, or at once when
 * no graph is recorded) may return internal saved buffers to the pool; it must never release an op's output.
 */
import { Tensor, TensorError } from './tensor.js';
import { allocUninit, release } from './pool.js';
import { getBackend } from './backends/index.js';

/** The backward record attached to an op's output. */
export interface GradFn {
  /** Op name (for error messages and debugging). */
  readonly name: string;
  /** The op's tensor inputs, in the order `backward` returns their gradients. */
  readonly inputs: readonly Tensor[];
  /** Maps dL/d(output) (same size as the output) to dL/d(input_i) (or null when input_i needs no gradient). */
  backward(g: Float32Array): ReadonlyArray<Float32Array | null>;
  /** Optional: hands internal saved buffers back to the pool when the graph is freed. */
  release?: () => void;
}

let gradEnabled = true;

/** Whether ops currently record the autograd graph. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Turns graph recording on/off; returns the previous setting. */
export function setGradEnabled(enabled: boolean): boolean {
  const prev = gradEnabled;
  gradEnabled = enabled;
  return prev;
}

/** Runs a synchronous fn with graph recording disabled (results have requiresGrad = false). */
export function noGrad<T>(fn: () => T): T {
  const prev = setGradEnabled(false);
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** True when an op over these inputs must record a graph node. */
export function needsGrad(...inputs: ReadonlyArray<Tensor | null | undefined>): boolean {
  if (!gradEnabled) return false;
  for (const t of inputs) if (t && t.requiresGrad) return true;
  return false;
}

/**
 * Attaches a graph node to `out` when any input requires grad (and recording is on); returns `out`.
 * `backward` is only called for outputs that received a gradient.
 */
export function record(
  out: Tensor, inputs: readonly Tensor[], name: string, backward: (g: Float32Array) => ReadonlyArray<Float32Array | null>,
  release?: () => void,
): Tensor {
  if (needsGrad(...inputs)) {
    out.requiresGrad = true;
    out.gradFn = { name, inputs, backward, release };
  } else if (release) {
    release();
  }
  return out;
}

const FREED: GradFn = {
  name: 'freed',
  inputs: [],
  backward(): never {
    throw new TensorError('backward through a graph that was already freed (pass { retainGraph: true } to keep it)');
  },
};

/** Leaf-gradient arrays allocated by the engine (only these may be recycled by `releaseGrad`). */
const engineGrads = new WeakSet<Float32Array>();

/**
 * Sets t.grad to null and, when the engine allocated that gradient array, returns it to the buffer pool
 * (so callers must not keep references to a gradient across this call). Used by optimisers' zeroGrad.
 */
export function releaseGrad(t: Tensor): void {
  const g = t.grad;
  t.grad = null;
  if (g && engineGrads.has(g.data)) {
    engineGrads.delete(g.data);
    release(g.data);
  }
}

function addInto(dst: Float32Array, src: Float32Array): void {
  if (dst.length >= 4096) {
    getBackend().axpby(1, dst, 1, src, dst, dst.length); // vectorised / threaded in the native backend
    return;
  }
  for (let i = 0; i < dst.length; i++) dst[i] += src[i];
}

function accumulate(t: Tensor, r: Float32Array, owned: boolean): void {
  if (r.length !== t.size) {
    throw new TensorError(`autograd: gradient of size ${r.length} for tensor of shape [${t.shape.join(', ')}]`);
  }
  if (t.gradFn) {
    if (t._gradBuf === null) {
      t._gradBuf = r;
      t._gradOwned = owned;
    } else if (t._gradOwned) {
      addInto(t._gradBuf, r);
      if (owned) release(r); // merged: a fresh array nobody else holds goes back to the pool
    } else if (owned) {
      addInto(r, t._gradBuf); // accumulate into the fresh array instead of copying the borrowed one
      t._gradBuf = r;
      t._gradOwned = true;
    } else {
      const sum = new Float32Array(t._gradBuf);
      addInto(sum, r);
      t._gradBuf = sum;
      t._gradOwned = true;
    }
  } else if (t.grad === null) {
    const data = owned ? r : new Float32Array(r);
    engineGrads.add(data);
    t.grad = new Tensor(data, t.shape);
  } else {
    addInto(t.grad.data, r);
    if (owned) release(r);
  }
}

/** Tensors with a graph node reachable from root, in topological order (inputs before outputs). */
function topoSort(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: Array<[Tensor, number]> = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.gradFn ? t.gradFn.inputs : [];
    if (i < inputs.length) {
      top[1] = i + 1;
      const c = inputs[i];
      if (c.requiresGrad && c.gradFn && !seen.has(c)) {
        seen.add(c);
        stack.push([c, 0]);
      }
    } else {
      stack.pop();
      if (t.gradFn) order.push(t);
    }
  }
  return order;
}

/** Options of `backward`. */
export interface BackwardOptions {
  /** Keep the graph (closures and saved buffers) for a second backward pass. */
  retainGraph?: boolean;
  /**
   * Once the graph is freed, hand the data buffers of the intermediate tensors (every op output in the graph except
   * the loss, and never a buffer shared with a leaf or constant input) back to the buffer pool, so the next step's
   * forward reuses them instead of allocating (a training loop's activations, like PyTorch's caching allocator).
   * The caller promises not to read any intermediate tensor of this graph afterwards. Ignored with retainGraph.
   */
  freeActivations?: boolean;
}

/**
 * Back-propagates from `loss`. grad defaults to 1 for a one-element loss (required otherwise; same size as loss).
 * Gradients are summed into `.grad` of every leaf with requiresGrad; the graph is freed unless opts.retainGraph.
 */
export function backward(loss: Tensor, grad?: Tensor | Float32Array, opts: BackwardOptions = {}): void {
  if (!loss.requiresGrad) {
    throw new TensorError('backward(): the loss does not require grad (no parameter reaches it, or it was built under noGrad)');
  }
  let seed: Float32Array;
  let seedOwned: boolean;
  if (grad === undefined) {
    if (loss.size !== 1) {
      throw new TensorError(`backward(): an implicit gradient needs a one-element loss, got shape [${loss.shape.join(', ')}]`);
    }
    seed = Float32Array.of(1);
    seedOwned = true;
  } else {
    seed = grad instanceof Tensor ? grad.data : grad;
    seedOwned = false;
    if (seed.length !== loss.size) throw new TensorError(`backward(): gradient of size ${seed.length} for loss of size ${loss.size}`);
  }
  if (!loss.gradFn) {
    accumulate(loss, seed, seedOwned);
    return;
  }
  const order = topoSort(loss);
  const freeActs = !!opts.freeActivations && !opts.retainGraph;
  const keep = new Set<ArrayBufferLike>(); // buffers of leaves / constants (and the loss): never released
  if (freeActs) {
    keep.add(loss.data.buffer);
    for (const t of order) for (const c of (t.gradFn as GradFn).inputs) if (!c.gradFn) keep.add(c.data.buffer);
  }
  loss._gradBuf = seed;
  loss._gradOwned = seedOwned;
  for (let n = order.length - 1; n >= 0; n--) {
    const t = order[n];
    const fn = t.gradFn as GradFn;
    const g = t._gradBuf;
    const gOwned = t._gradOwned;
    t._gradBuf = null;
    t._gradOwned = false;
    if (g !== null) {
      const rs = fn.backward(g);
      for (let i = 0; i < fn.inputs.length; i++) {
        const r = rs[i];
        const input = fn.inputs[i];
        if (!r || !input.requiresGrad) continue;
        // One array returned for several inputs (e.g. d(a+b)): every use but the last gets a pooled copy, the last
        // takes the array itself, so each input owns its gradient and none is copied outside the pool.
        let later = false;
        for (let j = i + 1; j < rs.length; j++) if (rs[j] === r && fn.inputs[j].requiresGrad) later = true;
        if (later) {
          const c = allocUninit(r.length);
          c.set(r);
          accumulate(input, c, true);
        } else {
          accumulate(input, r, r === g ? gOwned : true);
        }
      }
      // g was fresh and exclusively ours; if no input adopted it, recycle it
      if (gOwned && !rs.includes(g)) release(g);
    }
    if (!opts.retainGraph) {
      if (fn.release) fn.release();
      t.gradFn = FREED;
    }
  }
  // After the whole pass (a closure may read any saved tensor until then): recycle the activations.
  if (freeActs) for (const t of order) if (!keep.has(t.data.buffer)) release(t.data);
}
