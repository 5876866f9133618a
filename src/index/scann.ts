/**
 * ScannIndex: ScaNN-style MIPS (Guo et al. 2020) for REALM's retrieval step (Guu et al. 2020 §3.4, "MIPS").
 * Staged like ScaNN: (1) partition the corpus with k-means into ~sqrt(N) leaves and probe the `leavesToSearch`
 * best leaves per query; (2) score the leaf members with anisotropic product quantisation of their residuals
 * (16 centres per 2-dim block, eta(T) loss; anisotropic.ts) through 4-bit LUT16 fast scan over groups of 32
 * (lut16.ts / native/src/index_kernels_impl.h); (3) re-rank the best `reorder` candidates exactly. Supports
 * incremental add / remove / update with the trained partition and codebooks, and one-file persistence.
 */
import { apqInputs, encodeApq, trainApq } from './anisotropic.js';
import { assignLeaves, trainPartition, Rng, type PartitionOptions } from './kmeans.js';
import { scannSearchOneJs, type ScannArrays } from './lut16.js';
import { pinMmapThreshold, resolveKernels, trimHeap, type IndexAddon, type KernelChoice } from './native.js';
import { readIndexFile, writeIndexFile } from './persist.js';
import { ScannStore } from './scann-store.js';
import {
  IndexArgumentError, IndexFileError, NO_ID, checkIds, checkQuery, checkVectors, normaliseRows,
  type Index, type Metric, type SearchParams, type SearchResult,
} from './types.js';

/** Options of the quantisation stage. */
export interface QuantizeOptions {
  /** Dimensions per sub-quantiser block (only 2 is supported: LUT16 pairs). */
  dimsPerBlock?: 2;
  /** Centres per block (only 16 is supported: 4-bit codes). */
  centres?: 16;
  /** Anisotropic threshold T of eta(T) (ScaNN default 0.2); null = plain PQ. */
  anisotropicThreshold?: number | null;
  /** Training iterations (assignment + codebook steps); default 8. */
  iterations?: number;
  /** Points sampled to train the codebooks; default min(N, 32768). */
  sampleSize?: number;
  /** Anisotropic coordinate-descent sweeps when encoding; default 2. */
  encodeSweeps?: number;
}

/** Options of ScannIndex.build. */
export interface ScannOptions {
  /** Vector dimension. */
  dim: number;
  /** 'ip' (default) or 'cosine'. */
  metric?: Metric;
  /** Stage 1: partitioning (k-means). */
  partition?: PartitionOptions;
  /** Stage 2: anisotropic quantisation of residuals. */
  quantize?: QuantizeOptions;
  /** Stage 3: default number of candidates re-ranked exactly (default 100). */
  rerank?: { reorder?: number };
  /** Default leaves probed per query (default max(1, round(leaves / 20))). */
  search?: { leavesToSearch?: number };
  /** Kernel implementation: 'auto' (native when built), 'native' or 'js'. */
  kernels?: KernelChoice;
  /** Seed of the quantiser's sampling (default 1). */
  seed?: number;
}

interface Config {
  dim: number;
  metric: Metric;
  pairs: number;
  leaves: number;
  spherical: boolean;
  threshold: number | null;
  encodeSweeps: number;
  leavesToSearch: number;
  reorder: number;
}

export class ScannIndex implements Index {
  private readonly addon: IndexAddon | null;
  private handle: unknown = null;
  private handleVersion = -1;
  /** Rows added or re-embedded since the partition and codebooks were trained (see drift). */
  private changed = 0;

  private constructor(
    private readonly cfg: Config,
    private readonly centroids: Float32Array,
    private readonly codebooks: Float32Array,
    private readonly store: ScannStore,
    kernels: KernelChoice | undefined,
  ) {
    this.addon = resolveKernels(kernels);
  }

  get dim(): number {
    return this.cfg.dim;
  }
  get metric(): Metric {
    return this.cfg.metric;
  }
  get size(): number {
    return this.store.live;
  }
  /** Number of partitions. */
  get leaves(): number {
    return this.cfg.leaves;
  }
  /** Which kernels run: 'native' or 'js'. */
  get kernels(): 'native' | 'js' {
    return this.addon ? 'native' : 'js';
  }
  /** Trained codebooks [2 * pairs, 16, 2] (read-only view). */
  get codebookArray(): Float32Array {
    return this.codebooks;
  }

  /** Trains the partition and quantiser on `vectors` [n, dim] and indexes them under `ids`. */
  static build(vectors: Float32Array, ids: ArrayLike<number>, opts: ScannOptions): ScannIndex {
    const dim = opts.dim;
    if (!Number.isInteger(dim) || dim < 1) throw new IndexArgumentError(`ScannIndex.build: dim must be a positive integer (got ${dim})`);
    const metric = opts.metric ?? 'ip';
    if (metric !== 'ip' && metric !== 'cosine') throw new IndexArgumentError(`ScannIndex.build: unknown metric '${String(metric)}'`);
    const q = opts.quantize ?? {};
    if ((q.dimsPerBlock ?? 2) !== 2 || (q.centres ?? 16) !== 16) {
      throw new IndexArgumentError('ScannIndex.build: only dimsPerBlock 2 with 16 centres (4-bit LUT16) is supported');
    }
    const n = checkVectors('ScannIndex.build vectors', vectors, dim);
    if (n < 1) throw new IndexArgumentError('ScannIndex.build: needs at least one vector to train on');
    const idv = checkIds('ScannIndex.build', ids, n);
    const x = metric === 'cosine' ? normaliseRows(vectors, dim) : vectors;
    const addon = resolveKernels(opts.kernels);
    if (addon) pinMmapThreshold(); // the temporaries below go back to the OS once collected
    const p = opts.partition ?? {};
    const trace = traceTimer();
    const centroids = trainPartition(x, n, dim, p, addon);
    trace('partition trained');
    const leaves = centroids.length / dim;
    const pairs = Math.ceil(dim / 4);
    const M = 2 * pairs;
    // Quantiser training on a sample of residuals.
    const threshold = q.anisotropicThreshold === undefined ? 0.2 : q.anisotropicThreshold;
    const assign = assignLeaves(x, n, dim, centroids, leaves, p.spherical ?? false, addon);
    trace('all points assigned');
    const m = Math.min(n, q.sampleSize ?? 32768);
    const pick = new Rng(opts.seed ?? 1).sample(n, m);
    const xs = new Float32Array(m * dim), rs = new Float32Array(m * dim);
    for (let i = 0; i < m; i++) residual(x, pick[i]!, centroids, assign[pick[i]!]!, dim, xs, rs, i);
    const model = trainApq(apqInputs(xs, rs, m, dim, M, threshold), q.iterations ?? 8, opts.seed ?? 1, addon);
    trace(`quantiser trained (objective ${model.losses[0]?.toPrecision(4)} -> ${model.losses.at(-1)?.toPrecision(4)})`);
    const cfg: Config = {
      dim, metric, pairs, leaves, spherical: p.spherical ?? false, threshold, encodeSweeps: q.encodeSweeps ?? 2,
      leavesToSearch: opts.search?.leavesToSearch ?? Math.max(1, Math.round(leaves / 20)),
      reorder: opts.rerank?.reorder ?? 100,
    };
    const store = new ScannStore(dim, pairs, leaves);
    const counts = new Int32Array(leaves);
    for (let i = 0; i < n; i++) counts[assign[i]!]!++;
    store.layout(counts);
    store.reserveRows(n);
    const ix = new ScannIndex(cfg, centroids, model.codebooks, store, opts.kernels);
    const rows = new Int32Array(n);
    for (let i = 0; i < n; i++) rows[i] = store.appendRow(idv[i]!, x, i * dim);
    ix.encodeAndInsert(rows, assign);
    trace('encoded');
    // The build's native temporaries (k-means and quantiser buffers, ~30 MB at 331k x 100) are free now; hand them
    // back to the OS instead of leaving them resident in glibc's free lists (a few ms; no-op without the addon).
    trimHeap();
    return ix;
  }

  /** Encodes rows (vectors already stored) with the codebooks and inserts them into their leaves. */
  private encodeAndInsert(rows: Int32Array, leafOf: Int32Array): void {
    const { dim, pairs } = this.cfg, M = 2 * pairs, chunk = 4096;
    const v = this.store.vectors;
    // One set of chunk buffers for the whole call (a fresh set per chunk left ~100 MB of garbage on the heap).
    const cap = Math.min(chunk, rows.length);
    const xsAll = new Float32Array(cap * dim), rsAll = new Float32Array(cap * dim);
    let inputs: ReturnType<typeof apqInputs> | undefined;
    for (let c0 = 0; c0 < rows.length; c0 += chunk) {
      const cn = Math.min(chunk, rows.length - c0);
      const xs = xsAll.subarray(0, cn * dim), rs = rsAll.subarray(0, cn * dim);
      for (let i = 0; i < cn; i++) residual(v, rows[c0 + i]!, this.centroids, leafOf[c0 + i]!, dim, xs, rs, i);
      inputs = apqInputs(xs, rs, cn, dim, M, this.cfg.threshold, inputs);
      const codes = encodeApq(inputs, this.codebooks, this.cfg.encodeSweeps, this.addon);
      for (let i = 0; i < cn; i++) this.store.insert(leafOf[c0 + i]!, rows[c0 + i]!, codes, i * M);
    }
    this.store.version++;
  }

  private prepare(what: string, ids: ArrayLike<number>, vectors: Float32Array): { idv: Uint32Array; x: Float32Array; n: number } {
    const n = checkVectors(`${what} vectors`, vectors, this.cfg.dim);
    const idv = checkIds(what, ids, n);
    return { idv, n, x: this.cfg.metric === 'cosine' ? normaliseRows(vectors, this.cfg.dim) : vectors };
  }

  /** Adds new vectors: nearest leaf of the trained partition, encoded with the trained codebooks. */
  add(ids: ArrayLike<number>, vectors: Float32Array): void {
    const { idv, x, n } = this.prepare('add', ids, vectors);
    for (const id of idv) if (this.store.rowOf.has(id)) throw new IndexArgumentError(`add: id ${id} is already in the index (use update)`);
    const leafOf = assignLeaves(x, n, this.cfg.dim, this.centroids, this.cfg.leaves, this.cfg.spherical, this.addon);
    this.store.reserveRows(this.store.rows + n);
    const rows = new Int32Array(n);
    for (let i = 0; i < n; i++) rows[i] = this.store.appendRow(idv[i]!, x, i * this.cfg.dim);
    this.encodeAndInsert(rows, leafOf);
    this.changed += n;
  }

  /** Removes ids (tombstones; rows are compacted when more than a quarter are dead). */
  remove(ids: ArrayLike<number>): void {
    const idv = checkIds('remove', ids, ids.length);
    for (const id of idv) if (!this.store.rowOf.has(id)) throw new IndexArgumentError(`remove: id ${id} is not in the index`);
    for (const id of idv) this.store.kill(this.store.rowOf.get(id)!);
    if (this.store.dead > 64 && this.store.dead * 4 > this.store.rows) this.store.compactRows();
    this.store.version++;
  }

  /** Re-embeds existing ids in place: new vector, re-assigned leaf, re-encoded code. */
  update(ids: ArrayLike<number>, vectors: Float32Array): void {
    const { idv, x, n } = this.prepare('update', ids, vectors);
    for (const id of idv) if (!this.store.rowOf.has(id)) throw new IndexArgumentError(`update: id ${id} is not in the index`);
    const leafOf = assignLeaves(x, n, this.cfg.dim, this.centroids, this.cfg.leaves, this.cfg.spherical, this.addon);
    const rows = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const r = this.store.rowOf.get(idv[i]!)!;
      rows[i] = r;
      this.store.detach(r);
      this.store.vectors.set(x.subarray(i * this.cfg.dim, (i + 1) * this.cfg.dim), r * this.cfg.dim);
    }
    this.encodeAndInsert(rows, leafOf);
    this.changed += n;
  }

  /**
   * Fraction of the live vectors added or re-embedded (update) since the partition and codebooks were trained,
   * capped at 1. After REALM's index refresh re-embeds the corpus, the trained leaves and codebooks describe the old
   * embedding distribution; once drift is large (say > 0.3) and recall at the usual leavesToSearch drops, rebuild().
   */
  get drift(): number {
    return this.store.live === 0 ? 0 : Math.min(1, this.changed / this.store.live);
  }

  /**
   * A new ScannIndex over the live vectors and ids, with the partition and codebooks retrained and the same stage
   * settings (leaves unless `leaves` is given, threshold, sweeps, default leavesToSearch and reorder). This index
   * is not modified; swap the reference once the new one is built.
   */
  rebuild(opts: { leaves?: number; seed?: number } = {}): ScannIndex {
    const s = this.store, d = this.cfg.dim, live = s.live;
    if (live < 1) throw new IndexArgumentError('rebuild: the index holds no vectors');
    const x = new Float32Array(live * d), ids = new Uint32Array(live);
    let w = 0;
    for (let r = 0; r < s.rows; r++) {
      if (s.rowId[r] === NO_ID) continue;
      x.set(s.vectors.subarray(r * d, (r + 1) * d), w * d);
      ids[w++] = s.rowId[r]!;
    }
    const c = this.cfg;
    return ScannIndex.build(x, ids, {
      dim: d, metric: c.metric, kernels: this.addon ? 'auto' : 'js', seed: opts.seed,
      partition: { leaves: Math.min(opts.leaves ?? c.leaves, live), spherical: c.spherical },
      quantize: { anisotropicThreshold: c.threshold, encodeSweeps: c.encodeSweeps },
      rerank: { reorder: c.reorder }, search: { leavesToSearch: c.leavesToSearch },
    });
  }

  /** Drops tombstones and re-lays out the leaves tightly. */
  compact(): void {
    this.store.compactRows();
    this.store.relayout();
  }

  /** True when id is in the index. */
  has(id: number): boolean {
    return this.store.rowOf.has(id);
  }

  private arrays(): ScannArrays {
    const s = this.store;
    return {
      d: this.cfg.dim, pairs: this.cfg.pairs, leaves: this.cfg.leaves, centroids: this.centroids, codebooks: this.codebooks,
      codes: s.codes, leafStart: s.leafStart, leafCount: s.leafCount, slotRow: s.slotRow, vectors: s.vectors, rowId: s.rowId,
    };
  }

  private params(k: number, p?: SearchParams): [number, number] {
    const probe = p?.leavesToSearch ?? this.cfg.leavesToSearch;
    const reorder = p?.reorder ?? this.cfg.reorder;
    if (!Number.isInteger(probe) || probe < 1) throw new IndexArgumentError(`search: leavesToSearch must be an integer >= 1 (got ${probe})`);
    if (!Number.isInteger(reorder) || reorder < 0) throw new IndexArgumentError(`search: reorder must be an integer >= 0 (got ${reorder})`);
    return [Math.min(probe, this.cfg.leaves), reorder];
  }

  /** Batched search (multi-threaded with the native kernels): nq = queries.length / dim queries. */
  search(queries: Float32Array, k: number, params?: SearchParams): SearchResult {
    const nq = checkQuery(queries, k, this.cfg.dim);
    const ids = new Uint32Array(nq * k), scores = new Float32Array(nq * k);
    this.searchInto(queries, nq, k, params, ids, scores);
    return { ids, scores };
  }

  /**
   * Allocation-light search into caller arrays ids/scores [nq * k] (the per-query hot path: validate once outside
   * the loop; queries must be finite). Metric 'cosine' normalises the queries (one copy).
   */
  searchInto(queries: Float32Array, nq: number, k: number, params: SearchParams | undefined, ids: Uint32Array, scores: Float32Array): void {
    const [probe, reorder] = this.params(k, params);
    if (!Number.isInteger(k) || k < 1) throw new IndexArgumentError(`search: k must be an integer >= 1 (got ${k})`);
    if (queries.length < nq * this.cfg.dim || ids.length < nq * k || scores.length < nq * k) {
      throw new IndexArgumentError('searchInto: arrays are shorter than nq * dim / nq * k');
    }
    const q = this.cfg.metric === 'cosine' ? normaliseRows(queries.subarray(0, nq * this.cfg.dim), this.cfg.dim) : queries;
    if (this.addon) {
      if (this.handleVersion !== this.store.version || this.handle === null) {
        this.handle = this.addon.indexScannCreate(this.arrays());
        this.handleVersion = this.store.version;
      }
      this.addon.indexScannSearch(this.handle, q, nq, k, probe, reorder, ids, scores);
      return;
    }
    const a = this.arrays();
    for (let i = 0; i < nq; i++) scannSearchOneJs(a, q, i * this.cfg.dim, k, probe, reorder, ids, scores, i * k);
  }

  save(path: string): void {
    const s = this.store;
    writeIndexFile(path, 'scann', { ...this.cfg, rows: s.rows, dead: s.dead, slotEnd: s.slotEnd, wasted: s.wasted, changed: this.changed }, {
      centroids: this.centroids, codebooks: this.codebooks,
      codes: s.codes.subarray(0, (s.slotEnd / 32) * this.cfg.pairs * 32), slotRow: s.slotRow.subarray(0, s.slotEnd),
      leafStart: s.leafStart, leafCount: s.leafCount, leafCap: s.leafCap,
      vectors: s.vectors.subarray(0, s.rows * this.cfg.dim), rowId: s.rowId.subarray(0, s.rows),
      rowSlot: s.rowSlot.subarray(0, s.rows), rowLeaf: s.rowLeaf.subarray(0, s.rows),
    });
  }

  /** Loads a ScannIndex saved with save(); `expectDim` (optional) must match the file's dimension. */
  static load(path: string, opts: { expectDim?: number; kernels?: KernelChoice } = {}): ScannIndex {
    const f = readIndexFile(path, 'scann');
    const c = f.fields as unknown as Config & { rows: number; dead: number; slotEnd: number; wasted: number };
    const a = f.arrays;
    const bad = (why: string): never => {
      throw new IndexFileError(path, `inconsistent scann index contents (${why})`);
    };
    if (!Number.isInteger(c.dim) || !Number.isInteger(c.pairs) || !Number.isInteger(c.leaves) || c.pairs * 4 < c.dim) bad('header');
    if (opts.expectDim !== undefined && opts.expectDim !== c.dim) {
      throw new IndexArgumentError(`${path}: index dimension ${c.dim} does not match the expected ${opts.expectDim}`);
    }
    const len = (name: string, n: number, ctor: Function): void => {
      if (!(a[name] instanceof ctor) || a[name]!.length !== n) bad(`array ${name}`);
    };
    len('centroids', c.leaves * c.dim, Float32Array);
    len('codebooks', c.pairs * 2 * 32, Float32Array);
    len('codes', (c.slotEnd / 32) * c.pairs * 32, Uint8Array);
    len('slotRow', c.slotEnd, Int32Array);
    for (const n of ['leafStart', 'leafCount', 'leafCap']) len(n, c.leaves, Int32Array);
    len('vectors', c.rows * c.dim, Float32Array);
    len('rowId', c.rows, Uint32Array);
    len('rowSlot', c.rows, Int32Array);
    len('rowLeaf', c.rows, Int32Array);
    const s = new ScannStore(c.dim, c.pairs, c.leaves);
    s.codes = a.codes as Uint8Array;
    s.slotRow = a.slotRow as Int32Array;
    s.leafStart = a.leafStart as Int32Array;
    s.leafCount = a.leafCount as Int32Array;
    s.leafCap = a.leafCap as Int32Array;
    s.vectors = a.vectors as Float32Array;
    s.rowId = a.rowId as Uint32Array;
    s.rowSlot = a.rowSlot as Int32Array;
    s.rowLeaf = a.rowLeaf as Int32Array;
    s.rows = c.rows;
    s.dead = c.dead;
    s.slotEnd = c.slotEnd;
    s.wasted = c.wasted;
    for (let l = 0; l < c.leaves; l++) {
      if (s.leafStart[l]! % 32 !== 0 || s.leafCount[l]! > s.leafCap[l]! || s.leafStart[l]! + s.leafCap[l]! > c.slotEnd) bad(`leaf ${l}`);
    }
    for (let r = 0; r < c.rows; r++) {
      const id = s.rowId[r]!;
      if (id === NO_ID) continue;
      if (s.rowOf.has(id)) bad(`duplicate id ${id}`);
      s.rowOf.set(id, r);
    }
    const cfg: Config = {
      dim: c.dim, metric: c.metric, pairs: c.pairs, leaves: c.leaves, spherical: c.spherical, threshold: c.threshold,
      encodeSweeps: c.encodeSweeps, leavesToSearch: c.leavesToSearch, reorder: c.reorder,
    };
    const ix = new ScannIndex(cfg, a.centroids as Float32Array, a.codebooks as Float32Array, s, opts.kernels);
    const changed = (f.fields as { changed?: unknown }).changed;
    ix.changed = Number.isInteger(changed) && (changed as number) >= 0 ? (changed as number) : 0; // files before drift: 0
    return ix;
  }
}

/** Stage timing on stderr when REALM_INDEX_TRACE=1. */
function traceTimer(): (what: string) => void {
  if (process.env.REALM_INDEX_TRACE !== '1') return () => {};
  let t = performance.now();
  return (what) => {
    const now = performance.now();
    process.stderr.write(`[ScannIndex.build] ${what}: ${((now - t) / 1000).toFixed(2)} s\n`);
    t = now;
  };
}

/** Writes x[row] into xs[i] and its residual x[row] - centroid[leaf] into rs[i]. */
function residual(x: Float32Array, row: number, cent: Float32Array, leaf: number, d: number, xs: Float32Array, rs: Float32Array, i: number): void {
  for (let j = 0; j < d; j++) {
    const v = x[row * d + j]!;
    xs[i * d + j] = v;
    rs[i * d + j] = v - cent[leaf * d + j]!;
  }
}
