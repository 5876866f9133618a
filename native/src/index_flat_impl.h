// Exact top-k inner-product search (FlatIndex, REALM §3.1's retrieval distribution over every block; k-means leaf
// assignment in src/index/kmeans.ts): scores[q, r] = queries[q] . db[r] (+ bias[r]) computed by a register-blocked
// micro-kernel fused with a threshold-filtered top-k, so the [nq, nDb] score matrix is never materialised.
//
// Many queries: queries are packed in blocks of up to kQb (kMr-interleaved, [Qb/6, d, 6], L2-resident), the base
// is streamed in panels of kNr = 16 rows packed transposed ([d, 16], L1-resident), and a 6 x 16 AVX2+FMA tile
// (12 ymm accumulators) is compared against each query's current k-th best score before anything is stored
// (GotoBLAS-style blocking; the compare + movemask costs ~1 % of the FMAs). Blocks of queries run on the pool.
// Few queries (nq <= 3, e.g. one query per call): a GEMV-style dot kernel, 4 rows x nq queries per step straight
// from the row-major base (memory-bandwidth bound, no packing), rows split across the pool's threads.
// Ties keep the lower row (rows are visited in increasing order; TopK breaks equal scores by index).
// Included once by index_kernels.cc (binding.gyp compiles every native/src/*.cc; this keeps the file list stable).
#pragma once
#include <immintrin.h>

#include <cstring>
#include <mutex>

#include "index_common.h"
#include "pool.h"

namespace realm {
namespace idx {

namespace flat {

constexpr int kMr = 6;     // queries per micro-tile
constexpr int kNr = 16;    // base rows per micro-tile (two ymm)
constexpr int kQb = 384;   // queries per packed block (384 * d floats: 150 KB at d = 100, fits L2)
constexpr int kFewQ = 3;   // up to this many queries use the GEMV-style kernel

// Pushes row scores s[0..n) (rows r0..) > thr into heap h; returns the heap's new threshold.
inline float pushScores(TopK& h, const float* s, int n, int32_t r0, float thr) {
  for (int j = 0; j < n; j++) {
    if (s[j] > thr || !h.full()) {
      h.push(s[j], r0 + j);
      if (h.full()) thr = h.min();
    }
  }
  return thr;
}

// Packs queries q0..q0+qn ([qn, d] row-major) as [ceil(qn/6), d, 6], zero-padded.
void packQueries(const float* q, int qn, int d, float* out) {
  const int blocks = (qn + kMr - 1) / kMr;
  for (int b = 0; b < blocks; b++) {
    float* o = out + (size_t)b * d * kMr;
    for (int i = 0; i < kMr; i++) {
      const int qi = b * kMr + i;
      if (qi < qn) {
        const float* src = q + (size_t)qi * d;
        for (int j = 0; j < d; j++) o[j * kMr + i] = src[j];
      } else {
        for (int j = 0; j < d; j++) o[j * kMr + i] = 0.f;
      }
    }
  }
}

// Packs base rows r0..r0+rn (rn <= 16) as [d, 16], zero-padded.
void packPanel(const float* db, int rn, int d, float* out) {
  if (rn < kNr) std::memset(out, 0, sizeof(float) * d * kNr);
  for (int i = 0; i < rn; i++) {
    const float* src = db + (size_t)i * d;
    for (int j = 0; j < d; j++) out[j * kNr + i] = src[j];
  }
}

void writeResults(TopK& h, int k, std::vector<std::pair<float, int32_t>>& sorted, int32_t* outIdx, float* outScores) {
  h.sorted(sorted);
  for (int t = 0; t < k; t++) {
    const bool ok = t < (int)sorted.size();
    outIdx[t] = ok ? sorted[t].second : -1;
    outScores[t] = ok ? sorted[t].first : -__builtin_inff();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Portable kernels (any x86-64 / other CPU).

float dotScalar(const float* a, const float* b, int n) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int j = 0;
  for (; j + 4 <= n; j += 4) {
    s0 += a[j] * b[j];
    s1 += a[j + 1] * b[j + 1];
    s2 += a[j + 2] * b[j + 2];
    s3 += a[j + 3] * b[j + 3];
  }
  for (; j < n; j++) s0 += a[j] * b[j];
  return (s0 + s1) + (s2 + s3);
}

// Scores rows [rlo, rhi) for queries [0, nq) into heaps (one per query), scalar.
void scanRowsScalar(const float* db, int64_t rlo, int64_t rhi, int d, const float* bias, const float* q, int nq,
                    TopK* heaps) {
  for (int i = 0; i < nq; i++) {
    TopK& h = heaps[i];
    float thr = h.full() ? h.min() : -__builtin_inff();
    for (int64_t r = rlo; r < rhi; r++) {
      float s = dotScalar(q + (size_t)i * d, db + (size_t)r * d, d);
      if (bias) s += bias[r];
      thr = pushScores(h, &s, 1, (int32_t)r, thr);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// AVX2 + FMA kernels.
#pragma GCC push_options
#pragma GCC target("avx2,fma")

inline __m128 hsum4x8(__m256 a, __m256 b, __m256 c, __m256 d) {
  __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
  return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

// GEMV-style: rows [rlo, rhi) x nq (1..3) queries straight from the row-major base, 4 rows per step.
template <int NQ>
void scanRowsAvx2(const float* db, int64_t rlo, int64_t rhi, int d, const float* bias, const float* q, TopK* heaps) {
  float thr[NQ];
  for (int i = 0; i < NQ; i++) thr[i] = heaps[i].full() ? heaps[i].min() : -__builtin_inff();
  const int d8 = d & ~7, rem = d - d8;
  const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32(rem), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  int64_t r = rlo;
  alignas(16) float s[4];
  for (; r + 4 <= rhi; r += 4) {
    const float* b0 = db + (size_t)r * d;
    const float* b1 = b0 + d;
    const float* b2 = b1 + d;
    const float* b3 = b2 + d;
    __m256 acc[NQ][4];
    for (int i = 0; i < NQ; i++)
      for (int t = 0; t < 4; t++) acc[i][t] = _mm256_setzero_ps();
    int j = 0;
    for (; j < d8; j += 8) {
      const __m256 x0 = _mm256_loadu_ps(b0 + j), x1 = _mm256_loadu_ps(b1 + j), x2 = _mm256_loadu_ps(b2 + j),
                   x3 = _mm256_loadu_ps(b3 + j);
      for (int i = 0; i < NQ; i++) {
        const __m256 a = _mm256_loadu_ps(q + (size_t)i * d + j);
        acc[i][0] = _mm256_fmadd_ps(a, x0, acc[i][0]);
        acc[i][1] = _mm256_fmadd_ps(a, x1, acc[i][1]);
        acc[i][2] = _mm256_fmadd_ps(a, x2, acc[i][2]);
        acc[i][3] = _mm256_fmadd_ps(a, x3, acc[i][3]);
      }
    }
    if (rem) {
      const __m256 x0 = _mm256_maskload_ps(b0 + j, tail), x1 = _mm256_maskload_ps(b1 + j, tail),
                   x2 = _mm256_maskload_ps(b2 + j, tail), x3 = _mm256_maskload_ps(b3 + j, tail);
      for (int i = 0; i < NQ; i++) {
        const __m256 a = _mm256_maskload_ps(q + (size_t)i * d + j, tail);
        acc[i][0] = _mm256_fmadd_ps(a, x0, acc[i][0]);
        acc[i][1] = _mm256_fmadd_ps(a, x1, acc[i][1]);
        acc[i][2] = _mm256_fmadd_ps(a, x2, acc[i][2]);
        acc[i][3] = _mm256_fmadd_ps(a, x3, acc[i][3]);
      }
    }
    const __m128 bv = bias ? _mm_loadu_ps(bias + r) : _mm_setzero_ps();
    for (int i = 0; i < NQ; i++) {
      const __m128 sc = _mm_add_ps(hsum4x8(acc[i][0], acc[i][1], acc[i][2], acc[i][3]), bv);
      if (_mm_movemask_ps(_mm_cmpgt_ps(sc, _mm_set1_ps(thr[i]))) || !heaps[i].full()) {
        _mm_store_ps(s, sc);
        thr[i] = pushScores(heaps[i], s, 4, (int32_t)r, thr[i]);
      }
    }
  }
  if (r < rhi) {
    for (int i = 0; i < NQ; i++) scanRowsScalar(db, r, rhi, d, bias, q + (size_t)i * d, 1, heaps + i);
  }
}

// One packed block of queries (pa: [ceil(qn/6), d, 6]) against base rows [0, nDb): 6 x 16 register tiles.
void scanBlockAvx2(const float* db, int64_t nDb, int d, const float* bias, const float* pa, int qn, TopK* heaps,
                   float* thr, float* pb) {
  const int mBlocks = (qn + kMr - 1) / kMr;
  alignas(32) float s[kNr];
  alignas(32) float bpad[kNr];
  for (int64_t r0 = 0; r0 < nDb; r0 += kNr) {
    const int rn = (int)std::min<int64_t>(kNr, nDb - r0);
    packPanel(db + (size_t)r0 * d, rn, d, pb);
    // Bias of the panel; rows past nDb get -inf so they never pass a threshold.
    for (int j = 0; j < kNr; j++) bpad[j] = j < rn ? (bias ? bias[r0 + j] : 0.f) : -__builtin_inff();
    const __m256 bias0 = _mm256_load_ps(bpad), bias1 = _mm256_load_ps(bpad + 8);
    for (int mb = 0; mb < mBlocks; mb++) {
      const float* a = pa + (size_t)mb * d * kMr;
      const float* b = pb;
      __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00,
             c40 = c00, c41 = c00, c50 = c00, c51 = c00;
      for (int j = 0; j < d; j++, a += kMr, b += kNr) {
        const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        __m256 x = _mm256_broadcast_ss(a);
        c00 = _mm256_fmadd_ps(x, b0, c00);
        c01 = _mm256_fmadd_ps(x, b1, c01);
        x = _mm256_broadcast_ss(a + 1);
        c10 = _mm256_fmadd_ps(x, b0, c10);
        c11 = _mm256_fmadd_ps(x, b1, c11);
        x = _mm256_broadcast_ss(a + 2);
        c20 = _mm256_fmadd_ps(x, b0, c20);
        c21 = _mm256_fmadd_ps(x, b1, c21);
        x = _mm256_broadcast_ss(a + 3);
        c30 = _mm256_fmadd_ps(x, b0, c30);
        c31 = _mm256_fmadd_ps(x, b1, c31);
        x = _mm256_broadcast_ss(a + 4);
        c40 = _mm256_fmadd_ps(x, b0, c40);
        c41 = _mm256_fmadd_ps(x, b1, c41);
        x = _mm256_broadcast_ss(a + 5);
        c50 = _mm256_fmadd_ps(x, b0, c50);
        c51 = _mm256_fmadd_ps(x, b1, c51);
      }
      const __m256 cs[kMr][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
      const int mi = std::min(kMr, qn - mb * kMr);
      for (int i = 0; i < mi; i++) {
        const int qi = mb * kMr + i;
        const __m256 lo = _mm256_add_ps(cs[i][0], bias0), hi = _mm256_add_ps(cs[i][1], bias1);
        const __m256 t = _mm256_set1_ps(thr[qi]);
        if (_mm256_movemask_ps(_mm256_or_ps(_mm256_cmp_ps(lo, t, _CMP_GT_OQ), _mm256_cmp_ps(hi, t, _CMP_GT_OQ)))) {
          _mm256_store_ps(s, lo);
          _mm256_store_ps(s + 8, hi);
          thr[qi] = pushScores(heaps[qi], s, rn, (int32_t)r0, thr[qi]);
        }
      }
    }
  }
}

#pragma GCC pop_options

}  // namespace flat

using namespace flat;

// Exact top-k (declared in index_common.h): row indices (-1 past nDb) and scores, best first, ties by lower row.
void flatSearch(const float* db, int64_t nDb, int d, const float* bias, const float* queries, int64_t nq, int k,
                int32_t* outIdx, float* outScores) {
  if (nq <= 0) return;
  const bool avx2 = isaLevel() > 0;
  if (nq <= kFewQ) {
    // Split the rows across threads; each chunk keeps its own heaps, merged at the end.
    std::vector<TopK> best((size_t)nq);
    for (auto& h : best) h.reset(k);
    std::mutex mu;
    const int64_t grain = std::max<int64_t>(4096, (nDb + 7) / 8);
    parallelFor(nDb, grain, [&](int64_t lo, int64_t hi) {
      std::vector<TopK> local((size_t)nq);
      for (auto& h : local) h.reset(k);
      if (avx2 && nq == 1) scanRowsAvx2<1>(db, lo, hi, d, bias, queries, local.data());
      else if (avx2 && nq == 2) scanRowsAvx2<2>(db, lo, hi, d, bias, queries, local.data());
      else if (avx2) scanRowsAvx2<3>(db, lo, hi, d, bias, queries, local.data());
      else scanRowsScalar(db, lo, hi, d, bias, queries, (int)nq, local.data());
      std::lock_guard<std::mutex> lk(mu);
      for (int64_t i = 0; i < nq; i++)
        for (const auto& e : local[i].h) best[i].push(e.first, e.second);
    });
    std::vector<std::pair<float, int32_t>> sorted;
    for (int64_t i = 0; i < nq; i++) writeResults(best[i], k, sorted, outIdx + i * k, outScores + i * k);
    return;
  }
  const int64_t blocks = (nq + kQb - 1) / kQb;
  parallelFor(blocks, 1, [&](int64_t blo, int64_t bhi) {
    std::vector<float> pa((size_t)((kQb + kMr - 1) / kMr) * kMr * d);
    std::vector<float> pb((size_t)kNr * d + 8);
    float* pbAligned = (float*)(((uintptr_t)pb.data() + 31) & ~(uintptr_t)31);
    std::vector<TopK> heaps(kQb);
    std::vector<float> thr(kQb);
    std::vector<std::pair<float, int32_t>> sorted;
    for (int64_t bi = blo; bi < bhi; bi++) {
      const int64_t q0 = bi * kQb;
      const int qn = (int)std::min<int64_t>(kQb, nq - q0);
      for (int i = 0; i < qn; i++) {
        heaps[i].reset(k);
        thr[i] = -__builtin_inff();
      }
      if (avx2) {
        packQueries(queries + q0 * d, qn, d, pa.data());
        scanBlockAvx2(db, nDb, d, bias, pa.data(), qn, heaps.data(), thr.data(), pbAligned);
      } else {
        scanRowsScalar(db, 0, nDb, d, bias, queries + q0 * d, qn, heaps.data());
      }
      for (int i = 0; i < qn; i++) writeResults(heaps[i], k, sorted, outIdx + (q0 + i) * k, outScores + (q0 + i) * k);
    }
  });
}

}  // namespace idx
}  // namespace realm
