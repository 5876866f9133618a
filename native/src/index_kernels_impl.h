// MIPS index kernels, written once and compiled per instruction set: index_kernels.cc includes this file twice,
// as namespace `scalar` (baseline x86-64 / any CPU) and as namespace `avx2` under `#pragma GCC target("avx2,fma")`.
// Kernels: LUT16 fast scan (Guo et al. 2020 §4; faiss/ScaNN "fast scan": 4-bit codes, uint8 LUTs, vpshufb look-ups
// and uint16 accumulation over groups of 32 points), and the full ScannIndex query pipeline (score leaf centres,
// probe the best leaves, scan their codes, keep the best `reorder` candidates, re-rank them exactly).
// No include guard: included once per ISA.
#ifndef REALM_IDX_NS
#error "define REALM_IDX_NS before including index_kernels_impl.h"
#endif

namespace realm {
namespace idx {
namespace REALM_IDX_NS {

#if REALM_IDX_AVX2
static inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}
// [sum(a), sum(b), sum(c), sum(d)]
static inline __m128 hsum4x8(__m256 a, __m256 b, __m256 c, __m256 d) {
  __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
  return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}
static inline __m256i tailMask(int rem) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(rem), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#endif

static inline float dot(const float* a, const float* b, int n) {
#if REALM_IDX_AVX2
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int j = 0;
  for (; j + 16 <= n; j += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 8), _mm256_loadu_ps(b + j + 8), s1);
  }
  if (j + 8 <= n) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j), s0);
    j += 8;
  }
  if (j < n) {
    __m256i m = tailMask(n - j);
    s1 = _mm256_fmadd_ps(_mm256_maskload_ps(a + j, m), _mm256_maskload_ps(b + j, m), s1);
  }
  return hsum8(_mm256_add_ps(s0, s1));
#else
  return dotScalar(a, b, n);  // the portable 4-accumulator loop of index_flat_impl.h
#endif
}

// acc[32] = sum over sub-quantisers of lut[m][code[m][point]] for one group (layout: index_common.h).
static inline void lut16Group(const uint8_t* codes, const uint8_t* lut, int pairs, uint16_t* acc) {
#if REALM_IDX_AVX2
  // faiss's accumulation trick: add the whole 16-bit words (even point + 256 * odd point) and the odd bytes
  // separately; even = words - (odd << 8) at the end (exact mod 2^16), one AND per look-up fewer.
  const __m256i nib = _mm256_set1_epi8(0x0f);
  __m256i lw = _mm256_setzero_si256(), lo = lw, hw = lw, ho = lw;
  for (int p = 0; p < pairs; p++) {
    __m256i c = _mm256_loadu_si256((const __m256i*)(codes + p * 32));
    __m256i t = _mm256_loadu_si256((const __m256i*)(lut + p * 32));
    __m256i rl = _mm256_shuffle_epi8(t, _mm256_and_si256(c, nib));                         // points 0..15
    __m256i rh = _mm256_shuffle_epi8(t, _mm256_and_si256(_mm256_srli_epi16(c, 4), nib));  // points 16..31
    lw = _mm256_add_epi16(lw, rl);
    lo = _mm256_add_epi16(lo, _mm256_srli_epi16(rl, 8));  // odd points
    hw = _mm256_add_epi16(hw, rh);
    ho = _mm256_add_epi16(ho, _mm256_srli_epi16(rh, 8));
  }
  const __m256i le = _mm256_sub_epi16(lw, _mm256_slli_epi16(lo, 8));  // even points, as uint16
  const __m256i he = _mm256_sub_epi16(hw, _mm256_slli_epi16(ho, 8));
  // Lane 0 holds sub-quantiser 2p, lane 1 sub-quantiser 2p+1: add the lanes, then interleave even/odd points.
  __m128i e0 = _mm_add_epi16(_mm256_castsi256_si128(le), _mm256_extracti128_si256(le, 1));
  __m128i o0 = _mm_add_epi16(_mm256_castsi256_si128(lo), _mm256_extracti128_si256(lo, 1));
  __m128i e1 = _mm_add_epi16(_mm256_castsi256_si128(he), _mm256_extracti128_si256(he, 1));
  __m128i o1 = _mm_add_epi16(_mm256_castsi256_si128(ho), _mm256_extracti128_si256(ho, 1));
  _mm_storeu_si128((__m128i*)(acc + 0), _mm_unpacklo_epi16(e0, o0));
  _mm_storeu_si128((__m128i*)(acc + 8), _mm_unpackhi_epi16(e0, o0));
  _mm_storeu_si128((__m128i*)(acc + 16), _mm_unpacklo_epi16(e1, o1));
  _mm_storeu_si128((__m128i*)(acc + 24), _mm_unpackhi_epi16(e1, o1));
#else
  for (int j = 0; j < 32; j++) acc[j] = 0;
  for (int p = 0; p < pairs; p++) {
    const uint8_t* c = codes + p * 32;
    const uint8_t* t = lut + p * 32;
    for (int j = 0; j < 16; j++) {
      acc[j] = (uint16_t)(acc[j] + t[c[j] & 15] + t[16 + (c[16 + j] & 15)]);
      acc[16 + j] = (uint16_t)(acc[16 + j] + t[c[j] >> 4] + t[16 + (c[16 + j] >> 4)]);
    }
  }
#endif
}

#if REALM_IDX_AVX2
// Even/odd word sums of one group (see lut16Group) to acc[32] in point order.
static inline void finishGroup(__m256i lw, __m256i lo, __m256i hw, __m256i ho, uint16_t* acc) {
  const __m256i le = _mm256_sub_epi16(lw, _mm256_slli_epi16(lo, 8));
  const __m256i he = _mm256_sub_epi16(hw, _mm256_slli_epi16(ho, 8));
  __m128i e0 = _mm_add_epi16(_mm256_castsi256_si128(le), _mm256_extracti128_si256(le, 1));
  __m128i o0 = _mm_add_epi16(_mm256_castsi256_si128(lo), _mm256_extracti128_si256(lo, 1));
  __m128i e1 = _mm_add_epi16(_mm256_castsi256_si128(he), _mm256_extracti128_si256(he, 1));
  __m128i o1 = _mm_add_epi16(_mm256_castsi256_si128(ho), _mm256_extracti128_si256(ho, 1));
  _mm_storeu_si128((__m128i*)(acc + 0), _mm_unpacklo_epi16(e0, o0));
  _mm_storeu_si128((__m128i*)(acc + 8), _mm_unpackhi_epi16(e0, o0));
  _mm_storeu_si128((__m128i*)(acc + 16), _mm_unpacklo_epi16(e1, o1));
  _mm_storeu_si128((__m128i*)(acc + 24), _mm_unpackhi_epi16(e1, o1));
}

// lut16Group for two groups at once (codes a and b): sums to accA[32] and accB[32].
static inline void lut16Group2(const uint8_t* a, const uint8_t* b, const uint8_t* lut, int pairs, uint16_t* accA,
                               uint16_t* accB) {
  const __m256i nib = _mm256_set1_epi8(0x0f);
  __m256i alw = _mm256_setzero_si256(), alo = alw, ahw = alw, aho = alw;
  __m256i blw = alw, blo = alw, bhw = alw, bho = alw;
  for (int p = 0; p < pairs; p++) {
    const __m256i t = _mm256_loadu_si256((const __m256i*)(lut + p * 32));
    const __m256i ca = _mm256_loadu_si256((const __m256i*)(a + p * 32));
    const __m256i cb = _mm256_loadu_si256((const __m256i*)(b + p * 32));
    const __m256i ral = _mm256_shuffle_epi8(t, _mm256_and_si256(ca, nib));
    const __m256i rah = _mm256_shuffle_epi8(t, _mm256_and_si256(_mm256_srli_epi16(ca, 4), nib));
    const __m256i rbl = _mm256_shuffle_epi8(t, _mm256_and_si256(cb, nib));
    const __m256i rbh = _mm256_shuffle_epi8(t, _mm256_and_si256(_mm256_srli_epi16(cb, 4), nib));
    alw = _mm256_add_epi16(alw, ral);
    alo = _mm256_add_epi16(alo, _mm256_srli_epi16(ral, 8));
    ahw = _mm256_add_epi16(ahw, rah);
    aho = _mm256_add_epi16(aho, _mm256_srli_epi16(rah, 8));
    blw = _mm256_add_epi16(blw, rbl);
    blo = _mm256_add_epi16(blo, _mm256_srli_epi16(rbl, 8));
    bhw = _mm256_add_epi16(bhw, rbh);
    bho = _mm256_add_epi16(bho, _mm256_srli_epi16(rbh, 8));
  }
  finishGroup(alw, alo, ahw, aho, accA);
  finishGroup(blw, blo, bhw, bho, accB);
}
#endif

// Bit mask of the points (bit j = point j) whose accumulator is > thr (thr in [-1, 32766]).
static inline uint32_t aboveMask(const uint16_t* acc, int thr) {
#if REALM_IDX_AVX2
  __m256i t = _mm256_set1_epi16((int16_t)thr);
  __m256i a0 = _mm256_loadu_si256((const __m256i*)acc), a1 = _mm256_loadu_si256((const __m256i*)(acc + 16));
  __m256i m = _mm256_packs_epi16(_mm256_cmpgt_epi16(a0, t), _mm256_cmpgt_epi16(a1, t));
  m = _mm256_permute4x64_epi64(m, 0xd8);  // undo packs' lane interleave
  return (uint32_t)_mm256_movemask_epi8(m);
#else
  uint32_t m = 0;
  for (int j = 0; j < 32; j++) m |= (uint32_t)((int)acc[j] > thr) << j;
  return m;
#endif
}

void lut16Groups(const uint8_t* codes, const uint8_t* lut, int pairs, int groups, uint16_t* acc) {
  for (int g = 0; g < groups; g++) lut16Group(codes + (size_t)g * pairs * 32, lut, pairs, acc + g * 32);
}

// out[l] = q . centre_l for every leaf (out has room for the padded count ceil(L/64)*64), from the blocked centres
// [L/64, d, 64] (AVX2: one block per pass held in eight ymm accumulators, one broadcast of q[j] per row; each block
// is 64*d contiguous floats, so the hardware prefetcher streams it).
#if REALM_IDX_AVX2
static inline __m256 h8(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)p)); }
#endif

static void leafScores(const ScannView& v, const float* q, float* out) {
  const int L = v.leaves, d = v.d;
  for (int l0 = 0; l0 < L; l0 += kLeafBlock) {
#if REALM_IDX_AVX2
    static_assert(kLeafBlock == 64, "leafScores: AVX2 path holds 64 leaves in eight ymm registers");
    const uint16_t* c = v.centroidsH + (size_t)l0 * d;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (int j = 0; j < d; j++, c += kLeafBlock) {
      const __m256 b = _mm256_set1_ps(q[j]);
      a0 = _mm256_fmadd_ps(b, h8(c), a0);
      a1 = _mm256_fmadd_ps(b, h8(c + 8), a1);
      a2 = _mm256_fmadd_ps(b, h8(c + 16), a2);
      a3 = _mm256_fmadd_ps(b, h8(c + 24), a3);
      a4 = _mm256_fmadd_ps(b, h8(c + 32), a4);
      a5 = _mm256_fmadd_ps(b, h8(c + 40), a5);
      a6 = _mm256_fmadd_ps(b, h8(c + 48), a6);
      a7 = _mm256_fmadd_ps(b, h8(c + 56), a7);
    }
    _mm256_storeu_ps(out + l0, a0);
    _mm256_storeu_ps(out + l0 + 8, a1);
    _mm256_storeu_ps(out + l0 + 16, a2);
    _mm256_storeu_ps(out + l0 + 24, a3);
    _mm256_storeu_ps(out + l0 + 32, a4);
    _mm256_storeu_ps(out + l0 + 40, a5);
    _mm256_storeu_ps(out + l0 + 48, a6);
    _mm256_storeu_ps(out + l0 + 56, a7);
#else
    const float* c = v.centroidsT + (size_t)l0 * d;
    float* o = out + l0;
    for (int i = 0; i < kLeafBlock; i++) o[i] = 0.f;
    for (int j = 0; j < d; j++, c += kLeafBlock)
      for (int i = 0; i < kLeafBlock; i++) o[i] += q[j] * c[i];
#endif
  }
}

void scannSearchOne(const ScannView& v, const float* q, int k, int nProbe, int reorder, uint32_t* outIds,
                    float* outScores) {
  Scratch& s = scratch();
  const int L = v.leaves, pairs = v.pairs, M = 2 * pairs, d = v.d;
  // (1) partition: score every leaf centre, keep the nProbe best (best first, so the threshold tightens early).
  s.leafScore.resize((size_t)(L + kLeafBlock - 1) / kLeafBlock * kLeafBlock);
  leafScores(v, q, s.leafScore.data());
  // Bounded heap of the nProbe best non-empty leaves: one compare per leaf once the heap is full.
  const float* ls = s.leafScore.data();
  s.leafTop.reset(nProbe);
  float leafThr = -__builtin_inff();
  auto offer = [&](int l) {
    if (ls[l] < leafThr || v.leafCount[l] == 0) return;
    s.leafTop.push(ls[l], l);
    if (s.leafTop.full()) leafThr = s.leafTop.min();
  };
  int l = 0;
#if REALM_IDX_AVX2
  // Eight leaves per compare; only those at or above the threshold reach the heap.
  for (; l + 8 <= L; l += 8) {
    uint32_t m = (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(ls + l), _mm256_set1_ps(leafThr), _CMP_GE_OQ));
    while (m) {
      const int j = __builtin_ctz(m);
      m &= m - 1;
      offer(l + j);
    }
  }
#endif
  for (; l < L; l++) offer(l);
  s.leafTop.sorted(s.sorted);
  s.order.clear();
  for (const auto& e : s.sorted) s.order.push_back(e.second);
  // Exact float scores of the probed leaves (the ranking above may come from fp16 centres): the base of every
  // approximate point score in them.
  s.leafExact.resize(s.order.size());
  for (size_t i = 0; i < s.order.size(); i++) s.leafExact[i] = dot(q, v.centroids + (size_t)s.order[i] * d, d);
  // (2) LUT: float table q_m . C_m[c], then uint8 with a per-table offset and one common scale.
  s.lutF.resize((size_t)M * kCentres);
  s.lut8.resize((size_t)pairs * 32);
  float bias = 0.f, maxRange = 0.f;
  for (int m = 0; m < M; m++) {
    const float q0 = 2 * m < d ? q[2 * m] : 0.f, q1 = 2 * m + 1 < d ? q[2 * m + 1] : 0.f;
    const float* cb = v.codebooks + (size_t)m * kCentres * kDpb;
    float* t = s.lutF.data() + m * kCentres;
#if REALM_IDX_AVX2
    // 16 centres [16, 2] times (q0, q1): pairwise products, hadd, and a lane fix-up give t[0..15] in order.
    const __m256 qv = _mm256_setr_ps(q0, q1, q0, q1, q0, q1, q0, q1);
    const __m256 p0 = _mm256_mul_ps(_mm256_loadu_ps(cb), qv), p1 = _mm256_mul_ps(_mm256_loadu_ps(cb + 8), qv);
    const __m256 p2 = _mm256_mul_ps(_mm256_loadu_ps(cb + 16), qv), p3 = _mm256_mul_ps(_mm256_loadu_ps(cb + 24), qv);
    const __m256 t0 = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_hadd_ps(p0, p1)), 0xd8));
    const __m256 t1 = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_hadd_ps(p2, p3)), 0xd8));
    __m256 vmn = _mm256_min_ps(t0, t1), vmx = _mm256_max_ps(t0, t1);
    vmn = _mm256_min_ps(vmn, _mm256_permute2f128_ps(vmn, vmn, 1));
    vmx = _mm256_max_ps(vmx, _mm256_permute2f128_ps(vmx, vmx, 1));
    vmn = _mm256_min_ps(vmn, _mm256_shuffle_ps(vmn, vmn, 0x4e));
    vmx = _mm256_max_ps(vmx, _mm256_shuffle_ps(vmx, vmx, 0x4e));
    vmn = _mm256_min_ps(vmn, _mm256_shuffle_ps(vmn, vmn, 0xb1));
    vmx = _mm256_max_ps(vmx, _mm256_shuffle_ps(vmx, vmx, 0xb1));
    const float mn = _mm256_cvtss_f32(vmn), mx = _mm256_cvtss_f32(vmx);
    _mm256_storeu_ps(t, _mm256_sub_ps(t0, vmn));
    _mm256_storeu_ps(t + 8, _mm256_sub_ps(t1, vmn));
#else
    float mn = 1e30f, mx = -1e30f;
    for (int c = 0; c < kCentres; c++) {
      t[c] = q0 * cb[2 * c] + q1 * cb[2 * c + 1];
      mn = std::min(mn, t[c]);
      mx = std::max(mx, t[c]);
    }
    for (int c = 0; c < kCentres; c++) t[c] -= mn;
#endif
    bias += mn;
    maxRange = std::max(maxRange, mx - mn);
  }
  // uint8 entries, and their sum over M tables must fit the signed int16 compare: entries <= min(255, 32767 / M).
  const int lutMax = std::min(255, 32767 / M);
  const float scale = maxRange > 0.f ? (float)lutMax / maxRange : 1.f, invScale = 1.f / scale;
  // maxAcc: the largest sum any point can reach (sum of the tables' largest entries); a leaf whose base score plus
  // maxAcc / scale cannot beat the reservoir threshold is skipped without scanning.
  int maxAcc = 0;
  for (int m = 0; m < M; m++) {
    int top = 0;
    for (int c = 0; c < kCentres; c++) {
      const int e = (int)(s.lutF[m * kCentres + c] * scale + 0.5f);
      s.lut8[(m >> 1) * 32 + (m & 1) * 16 + c] = (uint8_t)e;
      top = std::max(top, e);
    }
    maxAcc += top;
  }
  // (3) scan the probed leaves, keeping the R best approximate scores. Reservoir (faiss ReservoirHandler): points
  // above the threshold are appended to a buffer of R + max(R, 64); when it fills, nth_element keeps the R best
  // and the threshold rises to the R-th score. A bounded heap cost a mispredicted sift per accepted point.
  const bool rerank = reorder > 0;
  const int R = rerank ? std::max(reorder, k) : k;
  const size_t resCap = (size_t)R + (size_t)std::max(R, 64);
  s.res.clear();
  if (s.res.capacity() < resCap) s.res.reserve(resCap);
  float resThr = -__builtin_inff();  // R-th best kept score after the last compaction (-inf before the first)
  auto compact = [&]() {
    keepTop(s.res, (size_t)R);
    uint64_t lo = s.res[0];
    for (uint64_t e : s.res) lo = std::min(lo, e);
    resThr = keyScore(lo);
  };
  alignas(32) uint16_t acc[64];
  // Software prefetch kPfGroups groups ahead along the probe order (crossing leaf boundaries): the codes of one
  // query (~nProbe * leaf size * pairs bytes) come from DRAM, and the hardware prefetcher restarts at every leaf.
  const size_t groupBytes = (size_t)pairs * 32;
  constexpr int kPfGroups = 3;
  size_t pfLeaf = 0;
  int pfGroup = 0;
  auto pfAdvance = [&]() {
    while (pfLeaf < s.order.size()) {
      const int32_t l = s.order[pfLeaf];
      if (pfGroup * kGroup < v.leafCount[l]) {
        const char* p = (const char*)(v.codes + (size_t)(v.leafStart[l] / kGroup + pfGroup) * groupBytes);
        for (size_t off = 0; off < groupBytes; off += 64) __builtin_prefetch(p + off, 0, 0);
        pfGroup++;
        return;
      }
      pfLeaf++;
      pfGroup = 0;
    }
  };
  for (int i = 0; i < kPfGroups; i++) pfAdvance();
  for (size_t oi = 0; oi < s.order.size(); oi++) {
    const int32_t l = s.order[oi];
    const int n = v.leafCount[l];
    const float base = s.leafExact[oi] + bias;
    const int64_t start = v.leafStart[l];
    const int groups = (n + kGroup - 1) / kGroup;
    auto thrFor = [&]() -> int {
      if (resThr == -__builtin_inff()) return -1;
      float t = (resThr - base) * scale;
      if (t >= (float)maxAcc) return maxAcc;
      return t < 0.f ? -1 : (int)t;
    };
    int thr = thrFor();
    if (thr >= maxAcc) {
      for (int g = 0; g < groups; g++) pfAdvance();
      continue;
    }
    const uint8_t* codes = v.codes + (size_t)(start / kGroup) * groupBytes;
    // Candidates of one scored group (acc: its 32 sums) above the current threshold go to the reservoir.
    auto take = [&](int g, const uint16_t* acc) {
      uint32_t mask = aboveMask(acc, thr);
      const int valid = std::min(kGroup, n - g * kGroup);
      if (valid < kGroup) mask &= (1u << valid) - 1u;
      while (mask) {
        const int j = __builtin_ctz(mask);
        mask &= mask - 1;
        if ((int)acc[j] <= thr) continue;
        const int32_t slot = (int32_t)(start + g * kGroup + j);
        s.res.push_back(scoreKey(base + (float)acc[j] * invScale, (uint32_t)slot));
        if (s.res.size() == resCap) {
          compact();
          thr = thrFor();
        }
      }
    };
    int g = 0;
#if REALM_IDX_AVX2
    // Two groups per pass over the table: each LUT row is loaded once for 64 points, twice the independent work.
    for (; g + 2 <= groups; g += 2) {
      pfAdvance();
      pfAdvance();
      lut16Group2(codes + (size_t)g * groupBytes, codes + (size_t)(g + 1) * groupBytes, s.lut8.data(), pairs, acc,
                  acc + 32);
      take(g, acc);
      take(g + 1, acc + 32);
    }
#endif
    for (; g < groups; g++) {
      pfAdvance();
      lut16Group(codes + (size_t)g * groupBytes, s.lut8.data(), pairs, acc);
      take(g, acc);
    }
  }
  // (4) exact re-rank of the candidates with the float vectors (or the approximate scores when reorder <= 0).
  // All candidate rows are prefetched first, then scored: re-ranking is bound by the cache misses on randomly
  // placed float vectors, not by arithmetic, so as many misses as possible should be in flight at once.
  if (s.res.size() > (size_t)R) compact();
  const size_t nc = s.res.size();
  const size_t rowBytes = (size_t)d * sizeof(float);
  s.rows.resize(nc);
  for (size_t i = 0; i < nc; i++) {
    const int32_t row = v.slotRow[keyIndex(s.res[i])];
    s.rows[i] = row;
    if (!rerank || row < 0) continue;
    const char* p = (const char*)(v.vectors + (size_t)row * d);
    for (size_t off = 0; off < rowBytes; off += 64) __builtin_prefetch(p + off, 0, 3);
  }
  s.final.clear();
  for (size_t i = 0; i < nc; i++) {
    const int32_t row = s.rows[i];
    if (row < 0) continue;
    const float sc = rerank ? dot(q, v.vectors + (size_t)row * d, d) : keyScore(s.res[i]);
    s.final.push_back(scoreKey(sc, (uint32_t)row));
  }
  const int got = (int)std::min<size_t>((size_t)k, s.final.size());
  if (got > 0) {
    std::partial_sort(s.final.begin(), s.final.begin() + got, s.final.end(), std::greater<uint64_t>());
  }
  for (int i = 0; i < k; i++) {
    outIds[i] = i < got ? v.rowId[keyIndex(s.final[i])] : 0xFFFFFFFFu;
    outScores[i] = i < got ? keyScore(s.final[i]) : -__builtin_inff();
  }
}

}  // namespace REALM_IDX_NS
}  // namespace idx
}  // namespace realm
