#!/usr/bin/env python3
"""faiss peer of realm-lm's MIPS benchmark (issue 4, "Benchmark"), spawned by bench/mips-glove.ts.

Same configurations and timing method as ../shared/bench/ann/faiss_ref.py, 1 thread, inner product, recall@10 on
all queries:
  faiss-flat             IndexFlatIP exact: one call per query (--flat-single queries) and one batched call.
  faiss-hnsw             IndexHNSWFlat(d, 16, IP), efConstruction 200, efSearch swept.
  faiss-ivfpqfs          IndexIVFPQFastScan(IndexFlatIP, d, 1024, d/2, 4 bit, IP), by_residual=True, nprobe swept,
                         fast-scan scores only; '+refine' = IndexRefineFlat with k_factor 4/8/16/32 and the envelope.
'single' = one search() call per query over --nq-single queries spread evenly over the set (the GloVe query file is
in word-frequency order); 'batch' = one call with all queries. QPS at a recall target: log-linear interpolation on
the Pareto frontier. Prints one line per record: '@@MIPS_RESULT ' + JSON (the protocol of bench/lib/peer.ts).

usage: OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python faiss_peer.py DIR NAME [--only flat,hnsw,ivfpqfs]
         [--quick] [--nq-single 2000] [--flat-single 1000] [--nlist 1024] [--kf none,4,8,16,32]
"""
import argparse, gc, json, os, resource, sys, time
import numpy as np

MARK = '@@MIPS_RESULT '
try:
    import faiss
except ImportError as e:  # reported as a skipped peer, not a crash
    print(MARK + json.dumps(dict(peer='faiss', skipped=f'faiss not importable ({e}); see bench/peers/faiss_peer.py')), flush=True)
    sys.exit(0)

ap = argparse.ArgumentParser()
ap.add_argument('dir'); ap.add_argument('name')
ap.add_argument('--only', default='flat,hnsw,ivfpqfs')
ap.add_argument('--quick', action='store_true')
ap.add_argument('--nq-single', type=int, default=2000)
ap.add_argument('--flat-single', type=int, default=1000)
ap.add_argument('--nlist', type=int, default=1024)
ap.add_argument('--kf', default='none,4,8,16,32')
ap.add_argument('--M', type=int, default=16); ap.add_argument('--efc', type=int, default=200)
a = ap.parse_args()
faiss.omp_set_num_threads(1)
K, STOP = 10, 0.995


def log(s):
    print(f'[faiss] {s}', file=sys.stderr, flush=True)


def rv(p, dt):
    x = np.fromfile(p, dtype=dt); d = x[:1].view(np.int32)[0]
    return np.ascontiguousarray(x.reshape(-1, d + 1)[:, 1:])


def rss_mb():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2 ** 20


B = rv(f'{a.dir}/{a.name}_base.fvecs', np.float32)
Q = rv(f'{a.dir}/{a.name}_query.fvecs', np.float32)
G10 = rv(f'{a.dir}/{a.name}_gt.ivecs', np.int32)[:, :K]
N, D = B.shape; NQ = len(Q)
gc.collect(); RSS_LOADED = rss_mb()
META = dict(data=a.name, N=int(N), D=int(D), nq=int(NQ), version=faiss.__version__,
            faiss_opt=faiss.get_compile_options().strip(), threads=1, rss_loaded_mb=round(RSS_LOADED))
log(f'{a.name}: N={N} D={D} nq={NQ} faiss {faiss.__version__} [{META["faiss_opt"]}] RSS with data {RSS_LOADED:.0f} MB')


def recall(I, rows=None):
    g = G10 if rows is None else G10[rows]
    return float((np.asarray(I[:, :K])[:, :, None] == g[:, None, :]).any(2).mean())


def single_idx(n):
    return np.linspace(0, NQ - 1, n).round().astype(int) if n < NQ else np.arange(NQ)


def single_loop(index, n):
    rows_i = single_idx(n)
    ids = np.empty((len(rows_i), K), dtype=np.int64)
    rows = [Q[i:i + 1] for i in rows_i]
    for i in range(min(50, len(rows))): index.search(rows[i], K)
    t = time.perf_counter()
    for i in range(len(rows)): ids[i] = index.search(rows[i], K)[1][0]
    return len(rows) / (time.perf_counter() - t), ids


def batched(index, n=NQ):
    t = time.perf_counter(); _, I = index.search(Q[:n], K)
    return n / (time.perf_counter() - t), I


def emit(rec):
    print(MARK + json.dumps(dict(**rec, **META, max_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))), flush=True)


def sweep(index, set_param, params, plateau=False):
    pts = []
    for p in params:
        set_param(p)
        qb, Ib = batched(index); r = recall(Ib)
        qs, Is = single_loop(index, a.nq_single)
        pts.append(dict(param=p, recall=round(r, 4), qps=round(qs, 1), qps_batch=round(qb, 1),
                        recall_single_subset=round(recall(Is, single_idx(a.nq_single)), 4)))
        log(f'  {p}: recall@10 {r:.4f}  single {qs:9.1f} q/s  batch {qb:9.1f} q/s')
        if r >= STOP or qb < 150: break
        if plateau and len(pts) >= 3 and pts[-1]['recall'] - pts[-3]['recall'] < max(0.003, 0.1 * (1 - pts[-1]['recall'])): break
    return pts


only = set(a.only.split(','))
if 'flat' in only:
    gc.collect(); r0 = rss_mb()
    t = time.perf_counter(); ix = faiss.IndexFlatIP(D); ix.add(B); build = time.perf_counter() - t
    n1 = min(a.flat_single, 100 if a.quick else a.flat_single)
    qs, Is = single_loop(ix, n1); qb, Ib = batched(ix)
    ex = dict(single=dict(nq=len(Is), qps=round(qs, 1), recall=round(recall(Is, single_idx(n1)), 4), gflops=round(2 * N * D * qs / 1e9, 2), threads=1),
              batch=dict(nq=int(NQ), qps=round(qb, 1), recall=round(recall(Ib), 4), gflops=round(2 * N * D * qb / 1e9, 2), threads=1))
    log(f'faiss-flat: single {qs:.1f} q/s, batch {qb:.1f} q/s')
    emit(dict(peer='faiss-flat', params=dict(index='IndexFlatIP'), build_s=round(build, 3), rss_index_mb=round(rss_mb() - r0), exact=ex))
    del ix; gc.collect()

if 'hnsw' in only:
    gc.collect(); r0 = rss_mb()
    ix = faiss.IndexHNSWFlat(D, a.M, faiss.METRIC_INNER_PRODUCT); ix.hnsw.efConstruction = a.efc
    t = time.perf_counter(); ix.add(B); build = time.perf_counter() - t
    rss_ix = rss_mb() - r0
    log(f'faiss-hnsw: build {build:.1f} s, index RSS {rss_ix:.0f} MB')
    efs = [10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048]
    def set_ef(e): ix.hnsw.efSearch = e
    pts = sweep(ix, set_ef, efs[:10] if a.quick else efs)
    emit(dict(peer='faiss-hnsw', params=dict(index='IndexHNSWFlat', M=a.M, efConstruction=a.efc, space='ip'), build_s=round(build, 2),
              rss_index_mb=round(rss_ix), sweep=pts))
    del ix; gc.collect()

if 'ivfpqfs' in only:
    pq_m = D // 2
    nlist = min(a.nlist, max(16, int(4 * np.sqrt(N))))
    gc.collect(); r0 = rss_mb()
    quant = faiss.IndexFlatIP(D)
    ivf = faiss.IndexIVFPQFastScan(quant, D, nlist, pq_m, 4, faiss.METRIC_INNER_PRODUCT)
    ivf.by_residual = True
    t = time.perf_counter(); ivf.train(B); t_train = time.perf_counter() - t
    t = time.perf_counter(); ivf.add(B); t_add = time.perf_counter() - t
    t = time.perf_counter(); ref = faiss.IndexRefineFlat(ivf, faiss.swig_ptr(B)); t_ref = time.perf_counter() - t
    rss_ix = rss_mb() - r0
    log(f'faiss-ivfpqfs nlist{nlist} PQ{pq_m}x4fs: train {t_train:.1f} s, add {t_add:.1f} s, refine store {t_ref:.2f} s, RSS {rss_ix:.0f} MB')
    nps = [p for p in [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512] if p <= nlist // 2]
    def set_np(p): ivf.nprobe = p
    envelope = []
    kfs = ['none', '16'] if a.quick else a.kf.split(',')
    params = dict(index='IndexIVFPQFastScan', nlist=nlist, pq=f'{pq_m}x4 fast-scan (bbs {ivf.bbs})', by_residual=True, space='ip',
                  kmeans_niter=ivf.cp.niter, spherical_kmeans=bool(ivf.cp.spherical))
    build_all = t_train + t_add + t_ref
    detail = dict(train_s=round(t_train, 2), add_s=round(t_add, 2), refine_store_s=round(t_ref, 2))
    for kf in kfs:
        if kf == 'none':
            index, build = ivf, t_train + t_add
        else:
            ref.k_factor = float(kf); index, build = ref, build_all
        log(f' [{"fast-scan only" if kf == "none" else "refine k_factor " + kf}]')
        pts = sweep(index, set_np, nps, plateau=True)
        emit(dict(peer='faiss-ivfpqfs' + ('' if kf == 'none' else f'+refine kf{kf}'),
                  params=dict(params, k_factor=None if kf == 'none' else float(kf)), build_s=round(build, 2), build_detail=detail,
                  rss_index_mb=round(rss_ix), sweep=pts))
        if kf != 'none':
            envelope += [dict(p, param=f'kf{kf}/np{p["param"]}') for p in pts]
    if envelope:
        emit(dict(peer='faiss-ivfpqfs+refine', params=dict(params, index='IndexIVFPQFastScan + IndexRefineFlat', k_factor='envelope ' + ','.join(kfs[1:])),
                  build_s=round(build_all, 2), build_detail=detail, rss_index_mb=round(rss_ix), envelope_of_sweeps=True, sweep=envelope))
    del ref, ivf, quant; gc.collect()
