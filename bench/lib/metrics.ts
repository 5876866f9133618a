// Measurement helpers for the MIPS benchmarks (issue 4, "Benchmark"): recall@k against exact ground truth,
// QPS at a recall target by log-linear interpolation on the Pareto frontier (the method of
// ../shared/bench/ann/lib.mjs qpsAt and faiss_ref.py qps_at), resident memory after a forced GC, timers, and the
// evenly spread query subset used for one-query-per-call timing (the GloVe query file is in word-frequency order).

/** One point of a parameter sweep. */
export interface SweepPoint {
  /** the search parameters of this point (peer-specific) */
  param: unknown;
  /** mean recall@k over all queries */
  recall: number;
  /** queries per second, one query per call (single thread) */
  qps: number;
  /** queries per second, all queries in one call (single thread); null if the peer has no batch API */
  qps_batch?: number | null;
}

/** Seconds since an arbitrary origin (monotonic). */
export const now = (): number => Number(process.hrtime.bigint()) / 1e9;

/** Current resident set size in MiB. */
export const rssMB = (): number => process.memoryUsage().rss / 2 ** 20;

/** Peak resident set size of this process in MiB. */
export const maxRssMB = (): number => process.resourceUsage().maxRSS / 1024;

/** Runs a full GC when node was started with --expose-gc (a no-op otherwise), then returns rssMB(). */
export function rssAfterGc(): number {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) { g(); g(); }
  return rssMB();
}

/**
 * recall@k: |approx top-k ∩ exact top-k| / k, mean over queries.
 * ids: [nq, k] returned ids (-1 = none); gt: [nq_gt, gtD] exact ids (gtD >= k); rows: which gt row answers row i
 * of ids (default i).
 */
export function recallAtK(ids: Int32Array, gt: Int32Array, gtD: number, nq: number, k: number, rows?: ArrayLike<number>): number {
  if (gtD < k) throw new RangeError(`recallAtK: ground truth has ${gtD} ids per query, need >= k = ${k}`);
  let hit = 0;
  const truth = new Set<number>();
  for (let q = 0; q < nq; q++) {
    const g = rows ? rows[q] : q;
    truth.clear();
    for (let j = 0; j < k; j++) truth.add(gt[g * gtD + j]);
    for (let j = 0; j < k; j++) if (truth.has(ids[q * k + j])) hit++;
  }
  return hit / (nq * k);
}

/**
 * QPS at a recall target: Pareto frontier (for each recall, the best qps reachable at >= that recall), then
 * log-linear interpolation between the two frontier points around the target. null if never reached.
 */
export function qpsAt(points: { recall: number; qps: number }[], target: number): number | null {
  const pts = points.filter((p) => Number.isFinite(p.qps) && p.qps > 0).sort((a, b) => a.recall - b.recall);
  const front = pts.map((p, i) => ({ recall: p.recall, qps: Math.max(...pts.slice(i).map((x) => x.qps)) }));
  if (front.length === 0 || front[front.length - 1].recall < target) return null;
  for (let i = 0; i < front.length; i++) {
    if (front[i].recall >= target) {
      if (i === 0) return front[0].qps;
      const a = front[i - 1], b = front[i];
      const t = (target - a.recall) / (b.recall - a.recall || 1);
      return Math.exp(Math.log(a.qps) + t * (Math.log(b.qps) - Math.log(a.qps)));
    }
  }
  return null;
}

/** `n` row indices spread evenly over [0, nq) (numpy linspace(0, nq-1, n).round()), or all rows if n >= nq. */
export function spreadRows(nq: number, n: number): Int32Array {
  if (n >= nq) return Int32Array.from({ length: nq }, (_, i) => i);
  const out = new Int32Array(n);
  const step = n === 1 ? 0 : (nq - 1) / (n - 1);
  for (let i = 0; i < n; i++) out[i] = i === n - 1 && n > 1 ? nq - 1 : roundHalfEven(i * step);
  return out;
}

/** numpy's round(): half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The QPS summary used in the tables and JSON: single and batched at recall 0.90 / 0.95 / 0.99. */
export interface QpsSummary {
  qps_r090: number | null; qps_r095: number | null; qps_r099: number | null;
  qps_batch_r090: number | null; qps_batch_r095: number | null; qps_batch_r099: number | null;
  max_recall: number | null;
}

/** Summarises a sweep at the three recall targets (rounded to 0.1 q/s). */
export function summarize(points: SweepPoint[]): QpsSummary {
  const r = (x: number | null): number | null => (x == null ? null : Math.round(x * 10) / 10);
  const single = points.map((p) => ({ recall: p.recall, qps: p.qps }));
  const batch = points.filter((p) => p.qps_batch != null).map((p) => ({ recall: p.recall, qps: p.qps_batch as number }));
  return {
    qps_r090: r(qpsAt(single, 0.9)), qps_r095: r(qpsAt(single, 0.95)), qps_r099: r(qpsAt(single, 0.99)),
    qps_batch_r090: r(qpsAt(batch, 0.9)), qps_batch_r095: r(qpsAt(batch, 0.95)), qps_batch_r099: r(qpsAt(batch, 0.99)),
    max_recall: points.length ? Math.max(...points.map((p) => p.recall)) : null,
  };
}
