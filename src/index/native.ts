/**
 * Access to the index kernels of the project's one native addon (native/src/index_*.cc) through the engine's
 * loader `nativeAddon()` (src/engine/backends/native.ts; `REALM_NATIVE_PATH` overrides the .node path), or null
 * when the index must run on its pure-TypeScript kernels: `REALM_BACKEND=js`, or the addon is not built / lacks
 * the index exports.
 */
import { nativeAddon } from '../engine/backends/native.js';

/** The index entry points of the native addon (signatures documented in native/src/index_kernels.cc). */
export interface IndexAddon {
  indexIsa(name?: 'auto' | 'scalar' | 'avx2'): 'scalar' | 'avx2';
  indexLut16Scan(codes: Uint8Array, lut: Uint8Array, pairs: number, groups: number): Uint16Array;
  indexFlatSearch(
    db: Float32Array, nDb: number, d: number, bias: Float32Array | null, queries: Float32Array, nq: number, k: number,
    outIdx: Int32Array, outScores: Float32Array,
  ): void;
  indexScannCreate(view: object): unknown;
  /** Returns freed malloc memory to the OS (glibc malloc_trim); absent from older builds of the addon. */
  indexTrimHeap?(): void;
  /** Fixes glibc's mmap threshold (bytes); false when skipped (MALLOC_MMAP_THRESHOLD_ set, not glibc). */
  indexPinMmapThreshold?(bytes: number): boolean;
  indexScannSearch(
    handle: unknown, queries: Float32Array, nq: number, k: number, leavesToSearch: number, reorder: number,
    outIds: Uint32Array, outScores: Float32Array,
  ): void;
  indexApqTrain(
    residuals: Float32Array, directions: Float32Array, weights: Float32Array, n: number, M: number,
    codebooks: Float32Array, codes: Uint8Array, iterations: number, initCodes: boolean,
  ): Float64Array;
  indexApqEncode(
    residuals: Float32Array, directions: Float32Array, weights: Float32Array, n: number, M: number,
    codebooks: Float32Array, outCodes: Uint8Array, sweeps: number,
  ): void;
}

let cached: IndexAddon | null | undefined;

/** The addon's index kernels, or null (REALM_BACKEND=js, not built, or built without the index kernels). */
export function indexAddon(): IndexAddon | null {
  if (cached !== undefined) return cached;
  cached = null;
  if (process.env.REALM_BACKEND === 'js') return cached;
  const mod = nativeAddon() as Partial<IndexAddon> | null;
  if (mod && typeof mod.indexScannSearch === 'function' && typeof mod.indexApqTrain === 'function') cached = mod as IndexAddon;
  return cached;
}

/** Kernel choice of one index: 'native' uses the addon when present, 'js' forces the TypeScript kernels. */
export type KernelChoice = 'auto' | 'native' | 'js';

/** Resolves a kernel choice to the addon or null; 'native' without an addon is an error. */
export function resolveKernels(choice: KernelChoice = 'auto'): IndexAddon | null {
  if (choice === 'js') return null;
  const a = indexAddon();
  if (choice === 'native' && a === null) throw new Error('index: native kernels requested but the addon is not available');
  return a;
}

/**
 * Returns freed malloc memory to the OS (glibc malloc_trim; no-op without the addon). A build frees tens of MB of
 * temporaries (k-means sample, quantiser inputs, encoding chunks); glibc keeps such blocks resident after the
 * garbage collector has released them. Call it after a collection when resident memory matters.
 */
export function trimHeap(): void {
  indexAddon()?.indexTrimHeap?.();
}

/** glibc mmap threshold pinned by `pinMmapThreshold` (4 MiB: larger buffers are mapped and unmapped on free). */
export const MMAP_THRESHOLD_BYTES = 4 << 20;
let pinned = false;

/**
 * Pins glibc's mmap threshold at MMAP_THRESHOLD_BYTES, once per process (first ScannIndex build). Without it
 * glibc raises the threshold after the first large free, so the build's multi-MB temporaries (k-means sample,
 * quantiser inputs), once garbage-collected, stay resident on the heap. Process-wide; a MALLOC_MMAP_THRESHOLD_ set by
 * the user wins; no-op without the addon or off glibc.
 */
export function pinMmapThreshold(): void {
  if (pinned) return;
  pinned = true;
  indexAddon()?.indexPinMmapThreshold?.(MMAP_THRESHOLD_BYTES);
}
