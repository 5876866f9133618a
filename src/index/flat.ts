/**
 * FlatIndex: exact maximum inner product search (REALM §3.1's retrieval distribution evaluated over every block),
 * blocked dot products with a fused partial top-k (native kernel, multi-threaded over queries; TypeScript fallback).
 * The ground truth for ScannIndex and the default for small corpora. Removal swaps the last row into the hole, so
 * storage stays dense.
 */
import { IdMap } from './idmap.js';
import { resolveKernels, type IndexAddon, type KernelChoice } from './native.js';
import { readIndexFile, writeIndexFile } from './persist.js';
import { flatSearchJs } from './topk.js';
import {
  IndexArgumentError, IndexFileError, NO_ID, checkIds, checkQuery, checkVectors, normaliseRows,
  type Index, type Metric, type SearchResult,
} from './types.js';

/** Options of a FlatIndex. */
export interface FlatOptions {
  /** Vector dimension. */
  dim: number;
  /** 'ip' (default) or 'cosine'. */
  metric?: Metric;
  /** Kernel implementation: 'auto' (native when built), 'native' or 'js'. */
  kernels?: KernelChoice;
}

export class FlatIndex implements Index {
  readonly dim: number;
  readonly metric: Metric;
  private readonly addon: IndexAddon | null;
  private vectors: Float32Array; // [cap, dim]
  private rowId: Uint32Array; // [cap]
  private readonly rowOf = new IdMap();
  private n = 0;

  constructor(opts: FlatOptions) {
    if (!Number.isInteger(opts.dim) || opts.dim < 1) throw new IndexArgumentError(`FlatIndex: dim must be a positive integer (got ${opts.dim})`);
    const metric = opts.metric ?? 'ip';
    if (metric !== 'ip' && metric !== 'cosine') throw new IndexArgumentError(`FlatIndex: unknown metric '${String(metric)}'`);
    this.dim = opts.dim;
    this.metric = metric;
    this.addon = resolveKernels(opts.kernels);
    this.vectors = new Float32Array(0);
    this.rowId = new Uint32Array(0);
  }

  get size(): number {
    return this.n;
  }

  /** Which kernels run: 'native' or 'js'. */
  get kernels(): 'native' | 'js' {
    return this.addon ? 'native' : 'js';
  }

  private reserve(rows: number): void {
    if (rows * this.dim <= this.vectors.length) return;
    const cap = Math.max(rows, Math.ceil(this.rowId.length * 1.5), 16);
    const v = new Float32Array(cap * this.dim);
    v.set(this.vectors.subarray(0, this.n * this.dim));
    const r = new Uint32Array(cap);
    r.set(this.rowId.subarray(0, this.n));
    this.vectors = v;
    this.rowId = r;
  }

  add(ids: ArrayLike<number>, vectors: Float32Array): void {
    const n = checkVectors('add vectors', vectors, this.dim);
    const idv = checkIds('add', ids, n);
    for (const id of idv) if (this.rowOf.has(id)) throw new IndexArgumentError(`add: id ${id} is already in the index (use update)`);
    const v = this.metric === 'cosine' ? normaliseRows(vectors, this.dim) : vectors;
    this.reserve(this.n + n);
    this.vectors.set(v, this.n * this.dim);
    for (let i = 0; i < n; i++) {
      this.rowId[this.n + i] = idv[i]!;
      this.rowOf.set(idv[i]!, this.n + i);
    }
    this.n += n;
  }

  remove(ids: ArrayLike<number>): void {
    const idv = checkIds('remove', ids, ids.length);
    for (const id of idv) if (!this.rowOf.has(id)) throw new IndexArgumentError(`remove: id ${id} is not in the index`);
    const d = this.dim;
    for (const id of idv) {
      const r = this.rowOf.get(id)!, last = this.n - 1;
      if (r !== last) {
        this.vectors.copyWithin(r * d, last * d, last * d + d);
        this.rowId[r] = this.rowId[last]!;
        this.rowOf.set(this.rowId[r]!, r);
      }
      this.rowOf.delete(id);
      this.n--;
    }
  }

  update(ids: ArrayLike<number>, vectors: Float32Array): void {
    const n = checkVectors('update vectors', vectors, this.dim);
    const idv = checkIds('update', ids, n);
    for (const id of idv) if (!this.rowOf.has(id)) throw new IndexArgumentError(`update: id ${id} is not in the index`);
    const v = this.metric === 'cosine' ? normaliseRows(vectors, this.dim) : vectors;
    for (let i = 0; i < n; i++) this.vectors.set(v.subarray(i * this.dim, (i + 1) * this.dim), this.rowOf.get(idv[i]!)! * this.dim);
  }

  /** True when id is in the index. */
  has(id: number): boolean {
    return this.rowOf.has(id);
  }

  search(queries: Float32Array, k: number): SearchResult {
    const nq = checkQuery(queries, k, this.dim);
    const q = this.metric === 'cosine' ? normaliseRows(queries, this.dim) : queries;
    const idx = new Int32Array(nq * k), scores = new Float32Array(nq * k);
    const db = this.vectors.subarray(0, this.n * this.dim);
    if (this.addon) this.addon.indexFlatSearch(db, this.n, this.dim, null, q, nq, k, idx, scores);
    else flatSearchJs(db, this.n, this.dim, null, q, nq, k, idx, scores);
    const ids = new Uint32Array(nq * k);
    for (let i = 0; i < ids.length; i++) ids[i] = idx[i]! >= 0 ? this.rowId[idx[i]!]! : NO_ID;
    return { ids, scores };
  }

  save(path: string): void {
    writeIndexFile(path, 'flat', { dim: this.dim, metric: this.metric, size: this.n }, {
      vectors: this.vectors.subarray(0, this.n * this.dim),
      ids: this.rowId.subarray(0, this.n),
    });
  }

  /** Loads a FlatIndex saved with save(); `expectDim` (optional) must match the file's dimension. */
  static load(path: string, opts: { expectDim?: number; kernels?: KernelChoice } = {}): FlatIndex {
    const f = readIndexFile(path, 'flat');
    const dim = f.fields.dim as number, size = f.fields.size as number;
    const vectors = f.arrays.vectors, ids = f.arrays.ids;
    if (!(vectors instanceof Float32Array) || !(ids instanceof Uint32Array) || ids.length !== size || vectors.length !== size * dim) {
      throw new IndexFileError(path, 'inconsistent flat index contents');
    }
    if (opts.expectDim !== undefined && opts.expectDim !== dim) {
      throw new IndexArgumentError(`${path}: index dimension ${dim} does not match the expected ${opts.expectDim}`);
    }
    const ix = new FlatIndex({ dim, metric: f.fields.metric as Metric, kernels: opts.kernels });
    ix.vectors = vectors;
    ix.rowId = ids;
    ix.n = size;
    for (let r = 0; r < size; r++) {
      if (ix.rowOf.has(ids[r]!)) throw new IndexFileError(path, `duplicate id ${ids[r]} in file`);
      ix.rowOf.set(ids[r]!, r);
    }
    return ix;
  }
}
