// Adapter from the MIPS benchmarks to the project's own index (src/index/: FlatIndex, ScannIndex; issue 4). The
// index API is still moving, so every call the benchmarks make goes through this one file: it imports src/index/
// lazily, reports clearly when the index has not landed, and pins the native thread pool to one thread for the
// single-thread figures.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Result of a batched search: [nq, k] ids (-1 = none) and scores. */
export interface SearchResult {
  /** [nq, k] ids */
  ids: Int32Array;
  /** [nq, k] inner products (approximate for ScannIndex before re-ranking) */
  scores?: Float32Array;
}

/** The subset of the index interface the benchmarks use. */
export interface BenchIndex {
  /** queries [nq, d] -> top-k per query */
  search(queries: Float32Array, k: number, params?: Record<string, unknown>): SearchResult;
}

/** ScannIndex build options as the benchmark passes them (issue 4 stages). */
export interface ScannBuildOptions {
  /** k-means partitioning: number of leaves, spherical assignment */
  partition: { leaves: number; spherical?: boolean };
  /** anisotropic 4-bit PQ settings (ScannIndex defaults when empty) */
  quantize: Record<string, unknown>;
  /** exact re-rank depth default */
  rerank: { reorder: number };
}

/** The project's index module, or why it cannot be used. */
export interface ProjectIndexApi {
  /** exact index over ids 0..n-1 */
  flat(base: Float32Array, n: number, d: number): BenchIndex;
  /** ScaNN-style index over ids 0..n-1, or null when ScannIndex has not landed */
  scann: ((base: Float32Array, n: number, d: number, o: ScannBuildOptions) => BenchIndex) | null;
  /** sets the native thread count (1 for the single-thread figures) */
  setThreads(n: number): void;
  /** where the module was loaded from */
  source: string;
  /** whether the native index kernels are loaded (else the index runs its TypeScript kernels) */
  native: boolean;
  /** returns freed malloc memory to the OS (src/index trimHeap), when exported */
  trimHeap?: () => void;
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Modules searched for FlatIndex / ScannIndex / setThreads (their exports are merged, first wins). */
const CANDIDATES = ['src/index/index.ts', 'src/index/flat.ts', 'src/index/scann.ts'];

type Ctor = new (...a: unknown[]) => Record<string, unknown>;

/** Loads src/index/ if it exports FlatIndex; returns a reason string otherwise. */
export async function loadProjectIndex(): Promise<ProjectIndexApi | string> {
  const files = CANDIDATES.map((c) => join(ROOT, c)).filter((p) => existsSync(p));
  if (files.length === 0) return `src/index/ has none of ${CANDIDATES.join(', ')} yet (index not landed)`;
  const mod: Record<string, unknown> = {};
  for (const file of files) {
    try {
      const m = (await import(pathToFileURL(file.replace(/\.ts$/, '.js')).href)) as Record<string, unknown>;
      for (const [k, v] of Object.entries(m)) if (!(k in mod)) mod[k] = v;
    } catch (e) {
      return `importing ${file} failed: ${(e as Error).message}`;
    }
  }
  const file = `src/index (${files.map((f) => f.slice(ROOT.length + 1).replace('src/index/', '')).join(', ')})`;
  const Flat = mod.FlatIndex as Ctor | undefined;
  if (!Flat) return `${file} does not export FlatIndex`;
  const Scann = mod.ScannIndex as Ctor | undefined;
  const setThreads = await threadSetter(mod);
  const wrap = (ix: Record<string, unknown>): BenchIndex => ({
    search(queries, k, params) {
      const r = (ix.search as (q: Float32Array, k: number, p?: unknown) => { ids: ArrayLike<number | bigint>; scores?: Float32Array })
        .call(ix, queries, k, params);
      const ids = r.ids instanceof Int32Array ? r.ids
        : r.ids instanceof Uint32Array ? new Int32Array(r.ids.buffer, r.ids.byteOffset, r.ids.length) // NO_ID -> -1
          : Int32Array.from(r.ids as ArrayLike<number>, (v) => Number(v));
      return { ids, scores: r.scores };
    },
  });
  const seqIds = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);
  const native = typeof mod.indexAddon === 'function' ? (mod.indexAddon as () => unknown)() != null : true;
  return {
    source: file,
    native,
    trimHeap: typeof mod.trimHeap === 'function' ? (mod.trimHeap as () => void) : undefined,
    setThreads,
    flat(base, n, d) {
      const ix = new Flat({ dim: d, metric: 'ip' });
      (ix.add as (ids: Int32Array, v: Float32Array) => void).call(ix, seqIds(n), base);
      return wrap(ix);
    },
    scann: Scann
      ? (base, n, d, o) => {
        const opts = { dim: d, metric: 'ip', ...o };
        const build = (Scann as unknown as { build?: (v: Float32Array, ids: Int32Array, o: unknown) => Record<string, unknown> }).build;
        if (typeof build === 'function') return wrap(build.call(Scann, base, seqIds(n), opts));
        const ix = new Scann(opts);
        (ix.add as (ids: Int32Array, v: Float32Array) => void).call(ix, seqIds(n), base);
        return wrap(ix);
      }
      : null,
  };
}

async function threadSetter(mod: Record<string, unknown>): Promise<(n: number) => void> {
  if (typeof mod.setThreads === 'function') return mod.setThreads as (n: number) => void;
  try {
    const eng = (await import(pathToFileURL(join(ROOT, 'src/engine/backends/index.js')).href)) as Record<string, unknown>;
    for (const v of Object.values(eng)) {
      if (typeof v === 'function' && /^(getBackend|backend|defaultBackend)$/.test(v.name)) {
        const b = (v as () => { setThreads?: (n: number) => void })();
        if (b?.setThreads) return (n) => b.setThreads!(n);
      }
    }
  } catch { /* engine not loadable: try the addon directly */ }
  const addon = join(ROOT, 'build', 'Release', 'realm_native.node');
  if (existsSync(addon)) {
    try {
      const a = createRequire(import.meta.url)(addon) as { setThreads?: (n: number) => void };
      if (a.setThreads) return (n) => a.setThreads!(n);
    } catch { /* not loadable: the index runs its JS kernels, single-threaded anyway */ }
  }
  return () => {};
}
