// Adapter from the MIPS benchmarks to the project's own index (src/index/: FlatIndex, ScannIndex; issue 4). The
// index API is still moving, so every call the benchmarks make goes through this one file: it imports src/index/
// lazily, reports clearly when the index has not landed, and pins the native thread pool to one thread for the
// single-thread figures.
import { existsSync } from 'node:fs';
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
  /** k-means partitioning: number of leaves */
  partition: { leaves: number };
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
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CANDIDATES = ['src/index/index.ts', 'src/index/mod.ts'];

type Ctor = new (...a: unknown[]) => Record<string, unknown>;

/** Loads src/index/ if it exports FlatIndex; returns a reason string otherwise. */
export async function loadProjectIndex(): Promise<ProjectIndexApi | string> {
  const file = CANDIDATES.map((c) => join(ROOT, c)).find((p) => existsSync(p));
  if (!file) return `src/index/ has no ${CANDIDATES.join(' or ')} yet (index not landed)`;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file.replace(/\.ts$/, '.js')).href)) as Record<string, unknown>;
  } catch (e) {
    return `importing ${file} failed: ${(e as Error).message}`;
  }
  const Flat = mod.FlatIndex as Ctor | undefined;
  if (!Flat) return `${file} does not export FlatIndex`;
  const Scann = mod.ScannIndex as Ctor | undefined;
  const setThreads = await threadSetter(mod);
  const wrap = (ix: Record<string, unknown>): BenchIndex => ({
    search(queries, k, params) {
      const r = (ix.search as (q: Float32Array, k: number, p?: unknown) => { ids: ArrayLike<number | bigint>; scores?: Float32Array })
        .call(ix, queries, k, params);
      const ids = r.ids instanceof Int32Array ? r.ids : Int32Array.from(r.ids as ArrayLike<number>, (v) => Number(v));
      return { ids, scores: r.scores };
    },
  });
  const seqIds = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);
  return {
    source: file,
    setThreads,
    flat(base, n, d) {
      const ix = new Flat({ dim: d, metric: 'ip' });
      (ix.add as (ids: Int32Array, v: Float32Array) => void).call(ix, seqIds(n), base);
      return wrap(ix);
    },
    scann: Scann
      ? (base, n, d, o) => {
        const ix = new Scann({ dim: d, metric: 'ip', ...o });
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
  } catch { /* engine not loadable: leave threads alone */ }
  return () => {};
}
