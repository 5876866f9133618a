// Parameter sweeps of one ANN peer inside its own benchmark process (issue 4, "Benchmark"): for each search
// setting, recall@10 over all queries (from one batched call when the peer has a batch API, else from the
// one-at-a-time loop over all queries) and single-thread QPS both ways: one query per call over queries spread
// evenly over the set (the GloVe query file is in word-frequency order), and all queries in one call.
import { now, recallAtK, spreadRows, type SweepPoint } from './metrics.js';

/** The query side of a benchmark set, as seen by a peer. */
export interface QuerySet {
  /** [nq, d] queries */
  data: Float32Array;
  /** number of queries */
  nq: number;
  /** dimension */
  d: number;
  /** [nq, gtD] exact ids, best first */
  gt: Int32Array;
  /** ids per ground-truth row */
  gtD: number;
}

/** How one peer answers queries under the current setting. */
export interface Searcher {
  /** one query [d] -> writes k ids at out[off ..] (-1 where fewer found) */
  one(q: Float32Array, k: number, out: Int32Array, off: number): void;
  /** optional: all queries [nq, d] in one call -> out [nq, k] */
  batch?(queries: Float32Array, nq: number, k: number, out: Int32Array): void;
}

/** Sweep options. */
export interface SweepOptions {
  /** neighbours per query (recall@k) */
  k: number;
  /** queries timed one per call (spread evenly); ignored for peers without batch (they run all queries) */
  nqSingle: number;
  /** stop once recall reaches this */
  stopRecall: number;
  /** stop when the single-query rate falls below this (slower than exact search: useless for the frontier) */
  minQps: number;
  /** stop when recall gained < max(0.003, plateauRel (1 - recall)) over the last two points (a ceiling) */
  plateau: boolean;
  /** relative part of the plateau rule (faiss_ref.py uses 0.1; 0 = only the absolute 0.003) */
  plateauRel?: number;
  /** progress lines */
  log: (msg: string) => void;
}

/** Runs setParam(p) then measures each p in order; returns the measured points. */
export function sweep<P>(qs: QuerySet, params: P[], setParam: (p: P) => Searcher, o: SweepOptions): SweepPoint[] {
  const { k } = o;
  const pts: SweepPoint[] = [];
  const row = (i: number): Float32Array => qs.data.subarray(i * qs.d, (i + 1) * qs.d);
  for (const p of params) {
    const s = setParam(p);
    let recall: number;
    let qpsBatch: number | null = null;
    let rows: Int32Array;
    if (s.batch) {
      const ids = new Int32Array(qs.nq * k).fill(-1);
      s.batch(qs.data.subarray(0, Math.min(qs.nq, 100) * qs.d), Math.min(qs.nq, 100), k, ids); // warm-up
      const t = now();
      s.batch(qs.data.subarray(0, qs.nq * qs.d), qs.nq, k, ids);
      qpsBatch = qs.nq / (now() - t);
      recall = recallAtK(ids, qs.gt, qs.gtD, qs.nq, k);
      rows = spreadRows(qs.nq, o.nqSingle);
    } else {
      rows = spreadRows(qs.nq, qs.nq);
      recall = NaN;
    }
    const ids = new Int32Array(rows.length * k).fill(-1);
    for (let i = 0; i < Math.min(50, rows.length); i++) s.one(row(rows[i]), k, ids, i * k);
    const t = now();
    for (let i = 0; i < rows.length; i++) s.one(row(rows[i]), k, ids, i * k);
    const qps = rows.length / (now() - t);
    const recallSingle = recallAtK(ids, qs.gt, qs.gtD, rows.length, k, rows);
    if (Number.isNaN(recall)) recall = recallSingle;
    const pt: SweepPoint & { recall_single_subset?: number } = {
      param: p, recall: round(recall, 4), qps: round(qps, 1), qps_batch: qpsBatch == null ? null : round(qpsBatch, 1),
    };
    if (s.batch) pt.recall_single_subset = round(recallSingle, 4);
    pts.push(pt);
    o.log(`  ${JSON.stringify(p)}: recall@${k} ${pt.recall.toFixed(4)}  single ${pt.qps.toFixed(1)} q/s` +
      (pt.qps_batch == null ? '' : `  batch ${pt.qps_batch.toFixed(1)} q/s`));
    if (recall >= o.stopRecall || qps < o.minQps) break;
    if (o.plateau && pts.length >= 3) {
      const r = pts[pts.length - 1].recall;
      if (r - pts[pts.length - 3].recall < Math.max(0.003, (o.plateauRel ?? 0.1) * (1 - r))) break;
    }
  }
  return pts;
}

/** Rounds to `digits` decimals. */
export function round(x: number, digits = 1): number {
  const m = 10 ** digits;
  return Math.round(x * m) / m;
}
