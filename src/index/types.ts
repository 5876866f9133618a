/**
 * The MIPS index contract shared by FlatIndex (exact) and ScannIndex (partition + anisotropic quantisation +
 * re-rank; Guo et al. 2020), plus input validation and the errors it raises. REALM (Guu et al. 2020, §3.1 and
 * §3.4) retrieves the blocks z with the largest inner products Embed_input(x)^T Embed_doc(z) from such an index.
 *
 * Ids are the caller's unsigned 32-bit integers (REALM block ids), 0 <= id < 2^32 - 1; 0xFFFFFFFF is reserved as
 * the "no result" marker in search output (with score -Infinity) when the index holds fewer than k vectors.
 */

/** 'ip' = inner product; 'cosine' = inner product of L2-normalised vectors (vectors and queries are normalised). */
export type Metric = 'ip' | 'cosine';

/** Marker id for missing results (fewer than k vectors in the index). */
export const NO_ID = 0xffffffff;

/** Search output: row q of each array holds query q's results, best first. */
export interface SearchResult {
  /** [nq * k] caller ids (NO_ID where fewer than k results exist). */
  ids: Uint32Array;
  /** [nq * k] scores (inner products; -Infinity for missing results). */
  scores: Float32Array;
}

/** Per-call search parameters (ScannIndex; FlatIndex ignores them). */
export interface SearchParams {
  /** Number of partitions (leaves) to probe; default: the index's build-time default. */
  leavesToSearch?: number;
  /** Approximate candidates re-ranked exactly with the float vectors; 0 returns approximate scores. */
  reorder?: number;
}

/** The index interface (faiss-like). Vectors are row-major Float32Array [n * dim]. */
export interface Index {
  readonly dim: number;
  readonly metric: Metric;
  /** Number of live vectors. */
  readonly size: number;
  /** Adds vectors under new ids (duplicates, already-present ids, NaN/Inf are errors; nothing is added then). */
  add(ids: ArrayLike<number>, vectors: Float32Array): void;
  /** Removes ids; unknown ids are an error (nothing is removed then). */
  remove(ids: ArrayLike<number>): void;
  /** Replaces the vectors of existing ids (re-embedding after an encoder refresh). */
  update(ids: ArrayLike<number>, vectors: Float32Array): void;
  /** Top-k by inner product for nq = queries.length / dim queries. */
  search(queries: Float32Array, k: number, params?: SearchParams): SearchResult;
  /** Writes the index to one file atomically (temp file, fsync, rename). */
  save(path: string): void;
}

/** Invalid argument to an index method (bad shape, k < 1, NaN/Inf, duplicate or unknown id, dim mismatch). */
export class IndexArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IndexArgumentError';
  }
}

/** An index file that cannot be loaded (truncated, corrupt, wrong version or kind). */
export class IndexFileError extends Error {
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'IndexFileError';
  }
}

/** Checks vectors [n * dim] are finite and returns n. */
export function checkVectors(what: string, vectors: Float32Array, dim: number): number {
  if (!(vectors instanceof Float32Array)) throw new IndexArgumentError(`${what}: expected a Float32Array`);
  if (vectors.length % dim !== 0) {
    throw new IndexArgumentError(`${what}: length ${vectors.length} is not a multiple of dim ${dim}`);
  }
  for (let i = 0; i < vectors.length; i++) {
    const v = vectors[i]!;
    if (v - v !== 0) {
      throw new IndexArgumentError(`${what}: non-finite value ${v} at row ${Math.floor(i / dim)}, column ${i % dim}`);
    }
  }
  return vectors.length / dim;
}

/** Checks ids are valid, distinct uint32 (< 0xFFFFFFFF), n of them; returns them as a Uint32Array. */
export function checkIds(what: string, ids: ArrayLike<number>, n: number): Uint32Array {
  if (ids.length !== n) throw new IndexArgumentError(`${what}: ${ids.length} ids for ${n} vectors`);
  const out = new Uint32Array(n);
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    if (!Number.isInteger(id) || id < 0 || id >= NO_ID) {
      throw new IndexArgumentError(`${what}: id ${id} at position ${i} is not an integer in [0, 2^32 - 2]`);
    }
    if (seen.has(id)) throw new IndexArgumentError(`${what}: duplicate id ${id}`);
    seen.add(id);
    out[i] = id;
  }
  return out;
}

/** Validates k and the query array; returns nq. */
export function checkQuery(queries: Float32Array, k: number, dim: number): number {
  if (!Number.isInteger(k) || k < 1) throw new IndexArgumentError(`search: k must be an integer >= 1 (got ${k})`);
  return checkVectors('search queries', queries, dim);
}

/** Copy of vectors with each row scaled to unit L2 norm (zero rows stay zero). */
export function normaliseRows(vectors: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(vectors.length);
  for (let r = 0; r < vectors.length; r += dim) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += vectors[r + j]! * vectors[r + j]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < dim; j++) out[r + j] = vectors[r + j]! * inv;
  }
  return out;
}
