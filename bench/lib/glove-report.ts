// Summary figures and the BENCHMARKS.md section of the GloVe-100 MIPS benchmark (bench/mips-glove.ts): the
// headline keys of bench/results/mips-glove.json (ours vs hnswlib-node and faiss fast-scan at recall@10 0.90/0.95,
// build seconds, index memory, exact batched rates) and the markdown tables of every peer's record.
import type { PeerRecord } from './peer.js';
import { fmtQps, markdownTable, type MachineInfo } from './report.js';

type Num = number | null;

const find = (recs: PeerRecord[], peer: string): PeerRecord | undefined => recs.find((r) => r.peer === peer && !r.skipped);
const ratio = (a: Num | undefined, b: Num | undefined): Num => (a != null && b != null && b > 0 ? Math.round((a / b) * 1000) / 1000 : null);
const v = (x: unknown): Num => (typeof x === 'number' ? x : null);

/** The headline keys of mips-glove.json. */
export function gloveSummary(recs: PeerRecord[]): Record<string, unknown> {
  const s = find(recs, 'ScannIndex'), h = find(recs, 'hnswlib-node'), u = find(recs, 'usearch');
  const fs = find(recs, 'faiss-ivfpqfs+refine'), fh = find(recs, 'faiss-hnsw'), ff = find(recs, 'faiss-flat');
  const fl = find(recs, 'FlatIndex'), js = find(recs, 'exact-js');
  return {
    qps_at_r090: v(s?.qps_r090), qps_at_r095: v(s?.qps_r095), qps_at_r099: v(s?.qps_r099),
    qps_batch_at_r090: v(s?.qps_batch_r090), qps_batch_at_r095: v(s?.qps_batch_r095),
    hnswlib_qps_at_r090: v(h?.qps_r090), hnswlib_qps_at_r095: v(h?.qps_r095), hnswlib_qps_at_r099: v(h?.qps_r099),
    usearch_qps_at_r090: v(u?.qps_r090), usearch_qps_at_r095: v(u?.qps_r095),
    faiss_fastscan_qps_at_r090: v(fs?.qps_r090), faiss_fastscan_qps_at_r095: v(fs?.qps_r095), faiss_fastscan_qps_at_r099: v(fs?.qps_r099),
    faiss_fastscan_batch_qps_at_r090: v(fs?.qps_batch_r090), faiss_hnsw_qps_at_r090: v(fh?.qps_r090),
    ratio_vs_hnswlib: ratio(s?.qps_r090, h?.qps_r090), ratio_vs_hnswlib_r095: ratio(s?.qps_r095, h?.qps_r095),
    ratio_vs_faiss_fastscan: ratio(s?.qps_r090, fs?.qps_r090), ratio_vs_faiss_fastscan_r095: ratio(s?.qps_r095, fs?.qps_r095),
    ratio_batch_vs_faiss_fastscan: ratio(s?.qps_batch_r090, fs?.qps_batch_r090),
    build_s: v(s?.build_s), hnswlib_build_s: v(h?.build_s), usearch_build_s: v(u?.build_s),
    faiss_build_s: v(fs?.build_s), faiss_hnsw_build_s: v(fh?.build_s),
    flat_batched_qps: v(fl?.exact?.batch?.qps), flat_single_qps: v(fl?.exact?.single?.qps),
    faiss_flat_batched_qps: v(ff?.exact?.batch?.qps), faiss_flat_single_qps: v(ff?.exact?.single?.qps),
    ratio_flat_vs_faiss_flat: ratio(fl?.exact?.batch?.qps, ff?.exact?.batch?.qps),
    exact_js_qps: v(js?.exact?.single?.qps), exact_js_blocked_qps: v(js?.exact?.batch?.qps),
    memory_mb: {
      note: 'RSS growth from building the index, after GC, in the peer\'s own process (data loaded beforehand not counted)',
      scann_index: v(s?.rss_index_mb), scann_index_after_trim_heap: v(s?.rss_index_trimmed_mb), hnswlib_index: v(h?.rss_index_mb), usearch_index: v(u?.rss_index_mb),
      usearch_peak_process: v(u?.max_rss_mb), faiss_fastscan_refine_index: v(fs?.rss_index_mb), faiss_hnsw_index: v(fh?.rss_index_mb),
      flat_index: v(fl?.rss_index_mb), scann_peak_process: v(s?.max_rss_mb),
    },
  };
}

interface GloveResult {
  machine: MachineInfo; command: string; data: { name: string; N: number; D: number; nq: number; note?: string; ground_truth: string };
  data_verification: unknown; peers: PeerRecord[]; [k: string]: unknown;
}

const PEER_DESC: Record<string, string> = {
  ScannIndex: 'realm-lm ScannIndex (partition + anisotropic 4-bit PQ LUT16 + exact re-rank)',
  'hnswlib-node': 'hnswlib-node HNSW M16 efC200',
  usearch: 'usearch HNSW M16 efC200 f32',
  'faiss-ivfpqfs+refine': 'faiss IVF1024 + PQ50x4 fast-scan + IndexRefineFlat (envelope of k_factor)',
  'faiss-ivfpqfs': 'faiss IVF1024 + PQ50x4 fast-scan, no re-rank',
  'faiss-hnsw': 'faiss IndexHNSWFlat M16 efC200',
};

/** The markdown of the mips-glove section. */
export function gloveMarkdown(r: GloveResult): string {
  const ann = r.peers.filter((p) => p.sweep && !p.skipped && !/\+refine kf/.test(p.peer));
  const q = (p: PeerRecord, t: '090' | '095' | '099'): string =>
    `${fmtQps(p[`qps_r${t}`] as Num)} / ${fmtQps(p[`qps_batch_r${t}`] as Num)}`;
  const annTable = markdownTable(
    ['peer', 'version', 'build s', 'index MB', 'QPS@R0.90 single / batch', 'QPS@R0.95', 'QPS@R0.99', 'max recall'],
    ann.map((p) => [PEER_DESC[p.peer] ?? p.peer, shortVersion(p.version), p.build_s as Num,
      p.rss_index_trimmed_mb != null ? `${p.rss_index_mb} (${p.rss_index_trimmed_mb} after trimHeap)` : (p.rss_index_mb as Num),
      q(p, '090'), q(p, '095'), q(p, '099'), p.max_recall as Num]),
  );
  const exact = r.peers.filter((p) => p.exact && !p.skipped);
  const exTable = markdownTable(['exact method (recall 1.0)', 'one query per call q/s', 'batched q/s', 'batched GFLOP/s'],
    exact.map((p) => [p.peer === 'FlatIndex' ? 'realm-lm FlatIndex' : p.peer === 'faiss-flat' ? 'faiss IndexFlatIP' : 'plain JS blocked loop',
      fmtQps(p.exact?.single?.qps), `${fmtQps(p.exact?.batch?.qps)} (${p.exact?.batch?.nq} queries)`, p.exact?.batch?.gflops]));
  const skipped = r.peers.filter((p) => p.skipped).map((p) => `- ${p.peer} skipped: ${p.skipped!.split('\n')[0]}`);
  const merged = r.peers.filter((p) => p.merged_from && !p.skipped)
    .map((p) => `- ${p.peer}: measured in a separate run started ${(p.merged_from as { measured: string }).measured.slice(0, 16).replace('T', ' ')} UTC, merged with --merge.`);
  const m = r.machine;
  const key = (k: string): string => (r[k] == null ? '–' : String(r[k]));
  return [
    `## MIPS: GloVe-100 (${r.data.name}, N = ${r.data.N.toLocaleString('en-US')}, d = ${r.data.D}, ${r.data.nq.toLocaleString('en-US')} queries, recall@10 vs exact dot-product top-10)`,
    '',
    `Measured ${m.date.slice(0, 16).replace('T', ' ')} UTC on ${m.cpu} (${m.cpus} cores, ${m.mem_gib} GiB), Node ${m.node}, 1 thread everywhere. ` +
    `Load average at start ${m.loadavg_1m}: the machine was shared with many other jobs, so absolute QPS and build seconds are well below an idle machine's and noisy; compare peers within the table.` +
    (r.data.note ? ` **${r.data.note}.**` : ''),
    '',
    'Reproduce: `npm install --prefix bench/peers && npx tsx bench/mips-glove.ts` (peers: `--peers scann,flat,hnswlib,usearch,faiss,exactjs`; ' +
    'development subset: `--quick`; faiss needs `python3 -m venv --system-site-packages /tmp/fvenv && /tmp/fvenv/bin/pip install faiss-cpu` or `$FAISS_PYTHON`). ' +
    `This run: \`${r.command}\`.`,
    '',
    annTable,
    '',
    exTable,
    '',
    `Headline: ScannIndex ${key('qps_at_r090')} / ${key('qps_at_r095')} / ${key('qps_at_r099')} q/s at R0.90 / 0.95 / 0.99; ratio vs faiss fast-scan + refine ` +
    `${key('ratio_vs_faiss_fastscan')} at R0.90 and ${key('ratio_vs_faiss_fastscan_r095')} at R0.95, vs hnswlib-node ${key('ratio_vs_hnswlib')} at R0.90; ` +
    `build ${key('build_s')} s; FlatIndex batched ${key('flat_batched_qps')} q/s vs faiss IndexFlatIP ${key('faiss_flat_batched_qps')} q/s.`,
    '',
    `- single = one search call per query (${Number(r.nq_single ?? 2000).toLocaleString('en-US')} queries spread evenly over the set — the query file is in word-frequency order — or all queries for peers without a batch API); batch = all queries in one call.`,
    '- QPS at a recall target = log-linear interpolation on the Pareto frontier of the parameter sweep (ScannIndex: reorder × leavesToSearch; HNSW: ef; faiss IVF: nprobe × k_factor).',
    '- index MB = resident-memory growth from building, after GC, each peer in its own process; hnswlib-node takes number[] only (Array.from per query is inside its timing). ' +
    'ScannIndex also after `trimHeap()` (glibc malloc_trim: the build\'s freed temporaries returned to the OS).',
    `- Data prepared in TypeScript (bench/lib/glove.ts: numpy PCG64 permutation re-implemented, seed 12345), ground truth by ${r.data.ground_truth}.` +
    (r.data_verification ? ` Checked against prep_glove.py's output: ${JSON.stringify(r.data_verification)}.` : ''),
    ...((r.notes as string[] | undefined) ?? []).filter((n) => n.startsWith('NOTE')).map((n) => `- ${n.slice(4).trim()}`),
    ...merged,
    ...skipped,
  ].join('\n');
}

function shortVersion(vs: unknown): string {
  if (typeof vs !== 'string') return '–';
  return vs.startsWith('src/index') || vs.includes('/src/index/') ? 'this repo' : vs;
}
