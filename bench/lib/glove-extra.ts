// Companions of bench/lib/glove.ts: the ground-truth engine choice (the project's FlatIndex when it has landed, else
// the plain-JS blocked loop), the reduced "quick" set for development runs (every 6th base vector, 1,000 queries
// spread over the set, ground truth recomputed), and a check of our prepared set against another copy (e.g. the
// shared harness's /tmp/annbench/data made by prep_glove.py): identical vectors, and top-10 ground-truth agreement.
import { existsSync } from 'node:fs';
import { exactTopK } from './exact.js';
import { readFvecs, readIvecs, writeVecs } from './fvecs.js';
import { glovePaths, type GroundTruthFn, type GloveSet } from './glove.js';
import { spreadRows } from './metrics.js';
import { loadProjectIndex } from './project.js';

/** Picks the exact top-k engine: FlatIndex (chunks of 1,000 queries) when available, else exactTopK. */
export async function groundTruthEngine(log: (m: string) => void): Promise<{ fn: GroundTruthFn; name: string }> {
  const api = await loadProjectIndex();
  if (typeof api !== 'string' && api.native) {
    return {
      name: `FlatIndex (${api.source})`,
      fn: (base, n, d, Q, nq, k) => {
        const ix = api.flat(base, n, d);
        const out = new Int32Array(nq * k);
        for (let q0 = 0; q0 < nq; q0 += 1000) {
          const m = Math.min(1000, nq - q0);
          out.set(ix.search(Q.subarray(q0 * d, (q0 + m) * d), k).ids.subarray(0, m * k), q0 * k);
          log(`  ground truth: ${q0 + m}/${nq}`);
        }
        return out;
      },
    };
  }
  log(`ground truth with the plain-JS exact loop (${typeof api === 'string' ? api : 'FlatIndex has no native kernels in this build'})`);
  return {
    name: 'plain-JS blocked exact loop',
    fn: (base, n, d, Q, nq, k) => {
      let last = 0;
      return exactTopK(base, n, d, Q, nq, k, (done) => {
        if (done - last >= 500 || done === nq) { log(`  ground truth: ${done}/${nq}`); last = done; }
      }).ids;
    },
  };
}

/** Writes (once) and returns the directory's quick set `glove100q`: every `stride`-th base row, `nq` spread queries. */
export function makeQuickSet(full: GloveSet, gtFn: GroundTruthFn, stride = 6, nq = 1000): string {
  const dir = full.dir, name = 'glove100q';
  const p = { base: `${dir}/${name}_base.fvecs`, query: `${dir}/${name}_query.fvecs`, gt: `${dir}/${name}_gt.ivecs` };
  if (existsSync(p.base) && existsSync(p.query) && existsSync(p.gt)) return name;
  const d = full.base.d;
  const nb = Math.ceil(full.base.n / stride);
  const B = new Float32Array(nb * d);
  for (let i = 0; i < nb; i++) B.set(full.base.data.subarray(i * stride * d, (i * stride + 1) * d), i * d);
  const rows = spreadRows(full.query.n, nq);
  const Q = new Float32Array(rows.length * d);
  rows.forEach((r, i) => Q.set(full.query.data.subarray(r * d, (r + 1) * d), i * d));
  writeVecs(p.base, B, nb, d);
  writeVecs(p.query, Q, rows.length, d);
  writeVecs(p.gt, gtFn(B, nb, d, Q, rows.length, 100), rows.length, 100);
  return name;
}

/** Agreement of two prepared copies of glove100n. */
export interface SetComparison {
  /** base and query files have bit-identical vectors */
  vectorsIdentical: boolean;
  /** largest absolute element difference of base/query */
  maxAbsDiff: number;
  /** mean |top-10 ours ∩ top-10 theirs| / 10 */
  gtTop10Agreement: number;
  /** queries whose top-10 sets differ */
  gtRowsDiffering: number;
}

/** Compares our set in `ours` with another copy in `theirs` (same file names). */
export function compareSets(ours: string, theirs: string): SetComparison {
  const a = glovePaths(ours), b = glovePaths(theirs);
  let maxAbsDiff = 0, identical = true;
  for (const f of ['base', 'query'] as const) {
    const x = readFvecs(a[f]).data, y = readFvecs(b[f]).data;
    if (x.length !== y.length) return { vectorsIdentical: false, maxAbsDiff: Infinity, gtTop10Agreement: 0, gtRowsDiffering: -1 };
    for (let i = 0; i < x.length; i++) {
      const e = Math.abs(x[i] - y[i]);
      if (e !== 0) { identical = false; if (e > maxAbsDiff) maxAbsDiff = e; }
    }
  }
  const g = readIvecs(a.gt), h = readIvecs(b.gt);
  let hit = 0, differ = 0;
  for (let q = 0; q < g.n; q++) {
    const s = new Set(Array.from(h.data.subarray(q * h.d, q * h.d + 10)));
    let m = 0;
    for (let j = 0; j < 10; j++) if (s.has(g.data[q * g.d + j])) m++;
    hit += m;
    if (m < 10) differ++;
  }
  return { vectorsIdentical: identical, maxAbsDiff, gtTop10Agreement: hit / (10 * g.n), gtRowsDiffering: differ };
}

/** How a ground truth adopted from another copy was checked. */
export interface AdoptedGroundTruth {
  /** directory the ground truth was copied from */
  from: string;
  /** queries (spread evenly) recomputed with our exact engine */
  checked_queries: number;
  /** mean top-10 set agreement on those queries */
  top10_agreement: number;
  /** checked queries whose top-10 id order differed */
  order_differs: number;
}

/**
 * Adopts `cacheDir`'s glove100n_gt.ivecs when our base and query files are bit-identical to its copies (the shared
 * harness's prep_glove.py output): copies it after recomputing `sample` spread queries with our exact engine and
 * requiring top-10 set agreement >= 0.999. Throws (nothing written) otherwise.
 */
export function adoptGroundTruth(dir: string, cacheDir: string, gtFn: GroundTruthFn, sample = 300): AdoptedGroundTruth {
  const a = glovePaths(dir), b = glovePaths(cacheDir);
  const base = readFvecs(a.base), query = readFvecs(a.query);
  for (const [f, x] of [['base', base.data], ['query', query.data]] as const) {
    const y = readFvecs(b[f]).data;
    if (x.length !== y.length || !x.every((v, i) => Object.is(v, y[i]))) {
      throw new Error(`--gt-cache ${cacheDir}: its ${f} vectors differ from ours; compute the ground truth instead`);
    }
  }
  const g = readIvecs(b.gt);
  if (g.n !== query.n || g.d < 10) throw new Error(`--gt-cache ${b.gt}: ${g.n} x ${g.d} ids, expected ${query.n} x >= 10`);
  const rows = spreadRows(query.n, sample);
  const d = base.d;
  const Q = new Float32Array(rows.length * d);
  rows.forEach((r, i) => Q.set(query.data.subarray(r * d, (r + 1) * d), i * d));
  const ours = gtFn(base.data, base.n, d, Q, rows.length, 10);
  let hit = 0, orderDiffers = 0;
  rows.forEach((r, i) => {
    const theirs = Array.from(g.data.subarray(r * g.d, r * g.d + 10));
    const mine = Array.from(ours.subarray(i * 10, i * 10 + 10));
    const s = new Set(theirs);
    hit += mine.filter((x) => s.has(x)).length;
    if (mine.join() !== theirs.join()) orderDiffers++;
  });
  const agreement = hit / (10 * rows.length);
  if (agreement < 0.999) throw new Error(`--gt-cache ${b.gt}: top-10 agreement with our exact search only ${agreement} on ${rows.length} queries`);
  writeVecs(a.gt, g.data, g.n, g.d);
  return { from: cacheDir, checked_queries: rows.length, top10_agreement: agreement, order_differs: orderDiffers };
}
