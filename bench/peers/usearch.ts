// usearch peer of the MIPS benchmark (issue 4, "Benchmark"): HNSW (connectivity 16, expansion_add 200, inner
// product, f32), built with 1 thread; expansion_search swept. Its JS API fixes expansion_search at construction, so
// each sweep point re-opens the saved index with Index.view(file) (mmap), as ../shared/bench/ann/bench.mjs does.
import { join } from 'node:path';
import { statSync } from 'node:fs';
import type { PeerContext, PeerRecord } from '../lib/peer.js';
import { peerVersion } from '../lib/peer.js';
import { now, rssAfterGc, maxRssMB, summarize } from '../lib/metrics.js';
import { sweep, round } from '../lib/sweep.js';

interface Matches { keys: BigUint64Array; counts?: BigUint64Array }
interface UIndex {
  add(keys: BigUint64Array, vectors: Float32Array, threads: number): void;
  search(vectors: Float32Array, k: number, threads: number): Matches;
  save(path: string): void;
  view(path: string): void;
}
type UIndexCtor = new (o: Record<string, unknown>) => UIndex;

const M = 16, EFC = 200;
const EFS = [10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024];

/** Builds and sweeps usearch. */
export async function runUsearch(ctx: PeerContext): Promise<PeerRecord> {
  const version = peerVersion(ctx.require, 'usearch');
  if (!version) return { peer: 'usearch', skipped: 'not installed: run `npm install --prefix bench/peers`' };
  const { Index } = ctx.require('usearch') as { Index: UIndexCtor };
  const { base, n, d } = ctx;
  const mk = (ef: number): UIndex =>
    new Index({ dimensions: d, metric: 'ip', quantization: 'f32', connectivity: M, expansion_add: EFC, expansion_search: ef });
  const idx = mk(64);
  const keys = new BigUint64Array(n);
  for (let i = 0; i < n; i++) keys[i] = BigInt(i);
  const t = now();
  idx.add(keys, base, 1);
  const build = now() - t;
  const rssBuilt = rssAfterGc();
  ctx.log(`  usearch build ${build.toFixed(1)} s, index RSS ${(rssBuilt - ctx.rssLoadedMB).toFixed(0)} MB`);
  const file = join(ctx.scratchDir, `usearch_${n}x${d}.usearch`);
  idx.save(file);
  const pts = sweep(ctx.qs, ctx.quick ? EFS.filter((e) => e <= 256) : EFS, (ef) => {
    const cur = mk(Math.max(ef, ctx.sweep.k));
    cur.view(file);
    const copy = (r: Matches, q: number, k: number, out: Int32Array, off: number): void => {
      const c = r.counts ? Number(r.counts[q]) : r.keys.length;
      for (let j = 0; j < k; j++) out[off + j] = j < c ? Number(r.keys[q * k + j]) : -1;
    };
    return {
      one(q, k, out, off) { copy(cur.search(q, k, 1), 0, k, out, off); },
      batch(Q, nq, k, out) { const r = cur.search(Q, k, 1); for (let i = 0; i < nq; i++) copy(r, i, k, out, i * k); },
    };
  }, ctx.sweep);
  return {
    peer: 'usearch', version, params: { connectivity: M, expansion_add: EFC, metric: 'ip', quantization: 'f32', build_threads: 1, sweep: 'expansion_search' },
    build_s: round(build, 2), rss_loaded_mb: Math.round(ctx.rssLoadedMB), rss_index_mb: Math.round(rssBuilt - ctx.rssLoadedMB),
    rss_mb: Math.round(rssBuilt), max_rss_mb: Math.round(maxRssMB()), index_file_mb: Math.round(statSync(file).size / 2 ** 20),
    sweep: pts, ...summarize(pts),
  };
}
