/**
 * A size-keyed free list of Float32Arrays (a small caching allocator, like PyTorch's).
 *
 * Fresh large typed arrays are expensive in Node (zeroed pages, page faults, external-memory GC pressure), and a
 * training step allocates the same sizes every iteration. Autograd releases gradient buffers that provably have no
 * other reference (fresh arrays produced by a backward closure, after the consuming node ran) and internal saved
 * buffers (e.g. dropout masks) once the graph is freed; ops take their outputs from here. Only whole-buffer arrays of
 * at least MIN_POOLED elements are pooled; the total held is capped (`setPoolLimit`, or env REALM_POOL_MB,
 * default 1024; 0 disables pooling).
 */

const MIN_POOLED = 4096;

function poolLimitFromEnv(): number {
  const mb = Number(process.env.REALM_POOL_MB ?? '1024');
  return Number.isFinite(mb) && mb >= 0 ? mb * 1024 * 1024 : 1 << 30;
}

const free = new Map<number, Float32Array[]>();
const pooled = new Set<ArrayBufferLike>();
let heldBytes = 0;
let limitBytes = poolLimitFromEnv();
let hits = 0;
let misses = 0;

/** A zero-filled array of n floats (recycled when possible). */
export function alloc(n: number): Float32Array {
  const a = take(n);
  if (a) {
    a.fill(0);
    return a;
  }
  return new Float32Array(n);
}

/** An array of n floats with UNSPECIFIED contents (caller must overwrite every element). */
export function allocUninit(n: number): Float32Array {
  return take(n) ?? new Float32Array(n);
}

function take(n: number): Float32Array | null {
  if (n < MIN_POOLED) return null;
  const list = free.get(n);
  const a = list?.pop();
  if (!a) {
    misses++;
    return null;
  }
  pooled.delete(a.buffer);
  heldBytes -= a.byteLength;
  hits++;
  return a;
}

/**
 * Returns an array to the pool. The caller guarantees nothing else references it (or any view of its buffer).
 * Views into larger buffers, small arrays and arrays beyond the limit are ignored (left to the GC).
 */
export function release(a: Float32Array | null | undefined): void {
  if (!a || a.length < MIN_POOLED || pooled.has(a.buffer)) return;
  if (a.byteOffset !== 0 || a.buffer.byteLength !== a.byteLength) return;
  if (heldBytes + a.byteLength > limitBytes) return;
  let list = free.get(a.length);
  if (!list) {
    list = [];
    free.set(a.length, list);
  }
  list.push(a);
  pooled.add(a.buffer);
  heldBytes += a.byteLength;
}

/** Caps the bytes the pool may hold (0 disables pooling); trims the pool to the new cap. */
export function setPoolLimit(bytes: number): void {
  limitBytes = Math.max(0, bytes);
  if (heldBytes > limitBytes) clearPool();
}

/** Drops every pooled array (memory returns to the GC). */
export function clearPool(): void {
  free.clear();
  pooled.clear();
  heldBytes = 0;
}

/** Pool counters (for tests and benchmarks). */
export function poolStats(): { heldBytes: number; limitBytes: number; hits: number; misses: number } {
  return { heldBytes, limitBytes, hits, misses };
}
