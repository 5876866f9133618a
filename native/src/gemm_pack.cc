// GEMM operand packing (see gemm.cc): copies a block of op(A) into MR-row panels [kc][MR] and a block of op(B)
// into NR-column panels [kc][NR], zero-padding ragged edges, resolving the transA/transB storage flags. The
// transposing cases (A stored [M, K], B stored [N, K]) use 8 x 8 AVX2 register transposes; the others are
// fixed-width row copies. Generic code handles every MR/NR on any CPU.
#include <algorithm>
#include <cstring>

#include "cpu.h"
#include "gemm.h"
#if REALM_X86
#include <immintrin.h>
#endif

namespace realm {
namespace gemm {
namespace {

void packAGeneric(bool transA, const float* A, int64_t lda, int64_t i0, int64_t mc, int64_t k0, int64_t kc, int MR,
                  float* dst) {
  for (int64_t ip = 0; ip < mc; ip += MR) {
    const int m = (int)std::min<int64_t>(MR, mc - ip);
    float* d = dst + ip * kc;
    for (int64_t k = 0; k < kc; k++) {
      float* o = d + k * MR;
      if (!transA) {
        const float* s = A + (i0 + ip) * lda + k0 + k;  // op(A)(i, k) = A[i * lda + k]
        for (int r = 0; r < m; r++) o[r] = s[r * lda];
      } else {
        const float* s = A + (k0 + k) * lda + i0 + ip;  // op(A)(i, k) = A[k * lda + i]
        for (int r = 0; r < m; r++) o[r] = s[r];
      }
      for (int r = m; r < MR; r++) o[r] = 0.0f;
    }
  }
}

void packBGeneric(bool transB, const float* B, int64_t ldb, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int NR,
                  float* dst) {
  for (int64_t jp = 0; jp < nc; jp += NR) {
    const int n = (int)std::min<int64_t>(NR, nc - jp);
    float* d = dst + jp * kc;
    if (!transB) {
      for (int64_t k = 0; k < kc; k++) {
        const float* s = B + (k0 + k) * ldb + j0 + jp;  // op(B)(k, j) = B[k * ldb + j]
        float* o = d + k * NR;
        for (int c = 0; c < n; c++) o[c] = s[c];
        for (int c = n; c < NR; c++) o[c] = 0.0f;
      }
    } else {
      for (int c = 0; c < n; c++) {
        const float* s = B + (j0 + jp + c) * ldb + k0;  // op(B)(k, j) = B[j * ldb + k]
        for (int64_t k = 0; k < kc; k++) d[k * NR + c] = s[k];
      }
      for (int c = n; c < NR; c++)
        for (int64_t k = 0; k < kc; k++) d[k * NR + c] = 0.0f;
    }
  }
}

#if REALM_X86
// In-register transpose: on return r[k] = (r0[k], r1[k], ..., r7[k]).
REALM_TARGET_AVX2 inline void transpose8(__m256 r[8]) {
  __m256 t[8], s[8];
  for (int i = 0; i < 4; i++) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 2; i++) {
    s[4 * i + 0] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    s[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
    s[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    s[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
  for (int i = 0; i < 4; i++) {
    r[i] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x31);
  }
}

// op(A) = A stored [M, K], MR a multiple of 6: 6-row groups, 8 k at a time through transpose8.
REALM_TARGET_AVX2 void packANoTransAvx2(const float* A, int64_t lda, int64_t i0, int64_t mc, int64_t k0, int64_t kc,
                                        int MR, float* dst) {
  for (int64_t ip = 0; ip < mc; ip += MR) {
    const int m = (int)std::min<int64_t>(MR, mc - ip);
    float* d = dst + ip * kc;
    for (int g = 0; g < MR; g += 6) {
      const int rows = std::max(0, std::min(6, m - g));
      const float* src[6];
      for (int r = 0; r < 6; r++) src[r] = A + (i0 + ip + g + std::min(r, std::max(rows - 1, 0))) * lda + k0;
      int64_t k = 0;
      if (rows > 0) {
        for (; k + 8 <= kc; k += 8) {
          __m256 v[8];
          for (int r = 0; r < 6; r++) v[r] = r < rows ? _mm256_loadu_ps(src[r] + k) : _mm256_setzero_ps();
          v[6] = v[7] = _mm256_setzero_ps();
          transpose8(v);
          for (int q = 0; q < 8; q++) {
            float* o = d + (k + q) * MR + g;
            _mm_storeu_ps(o, _mm256_castps256_ps128(v[q]));
            _mm_storel_pi((__m64*)(o + 4), _mm256_extractf128_ps(v[q], 1));
          }
        }
      }
      for (; k < kc; k++) {
        float* o = d + k * MR + g;
        for (int r = 0; r < 6; r++) o[r] = r < rows ? src[r][k] : 0.0f;
      }
    }
  }
}

// op(B) = B stored [N, K], NR a multiple of 8: 8-column groups through transpose8.
REALM_TARGET_AVX2 void packBTransAvx2(const float* B, int64_t ldb, int64_t k0, int64_t kc, int64_t j0, int64_t nc,
                                      int NR, float* dst) {
  for (int64_t jp = 0; jp < nc; jp += NR) {
    const int n = (int)std::min<int64_t>(NR, nc - jp);
    float* d = dst + jp * kc;
    for (int g = 0; g < NR; g += 8) {
      const int cols = std::max(0, std::min(8, n - g));
      if (cols == 0) {
        for (int64_t k = 0; k < kc; k++) _mm256_storeu_ps(d + k * NR + g, _mm256_setzero_ps());
        continue;
      }
      const float* src[8];
      for (int c = 0; c < 8; c++) src[c] = B + (j0 + jp + g + std::min(c, cols - 1)) * ldb + k0;
      int64_t k = 0;
      for (; k + 8 <= kc; k += 8) {
        __m256 v[8];
        for (int c = 0; c < 8; c++) v[c] = c < cols ? _mm256_loadu_ps(src[c] + k) : _mm256_setzero_ps();
        transpose8(v);
        for (int q = 0; q < 8; q++) _mm256_storeu_ps(d + (k + q) * NR + g, v[q]);
      }
      for (; k < kc; k++) {
        float* o = d + k * NR + g;
        for (int c = 0; c < 8; c++) o[c] = c < cols ? src[c][k] : 0.0f;
      }
    }
  }
}

// Row copies: op(B) = B stored [K, N] (NR floats per k) or op(A) = A stored [K, M] (MR floats per k).
// Rows are visited in groups of 8 with every panel filled from the group before moving on, so the source is read as
// 8 sequential row streams; panel-by-panel order read W floats per row at a stride of ld (one 64-byte piece of a new
// page per row when ld is a few KB), which left NN / TN products ~15-25% behind NT on this machine.
template <int W>
REALM_TARGET_AVX2 void copyPanelsAvx2(const float* S, int64_t ld, int64_t rowOff, int64_t colOff, int64_t len,
                                      int64_t width, float* dst) {
  // dst panel p, row k: S[(rowOff + k) * ld + colOff + p * W + 0 .. W-1]
  constexpr int64_t KB = 8;
  const float* s0 = S + rowOff * ld + colOff;
  for (int64_t kb = 0; kb < len; kb += KB) {
    const int64_t ke = std::min(len, kb + KB);
    for (int64_t jp = 0; jp < width; jp += W) {
      const int n = (int)std::min<int64_t>(W, width - jp);
      float* d = dst + jp * len;
      const float* s = s0 + jp;
      if (n == W) {
        for (int64_t k = kb; k < ke; k++) std::memcpy(d + k * W, s + k * ld, W * sizeof(float));
      } else {
        for (int64_t k = kb; k < ke; k++) {
          for (int c = 0; c < n; c++) d[k * W + c] = s[k * ld + c];
          for (int c = n; c < W; c++) d[k * W + c] = 0.0f;
        }
      }
    }
  }
}
#endif

}  // namespace

void packA(bool transA, const float* A, int64_t lda, int64_t i0, int64_t mc, int64_t k0, int64_t kc, int MR,
           float* dst) {
#if REALM_X86
  if (cpuFeatures().avx2Fma) {
    if (!transA && MR % 6 == 0) return packANoTransAvx2(A, lda, i0, mc, k0, kc, MR, dst);
    if (transA && MR == 6) return copyPanelsAvx2<6>(A, lda, k0, i0, kc, mc, dst);
    if (transA && MR == 12) return copyPanelsAvx2<12>(A, lda, k0, i0, kc, mc, dst);
  }
#endif
  packAGeneric(transA, A, lda, i0, mc, k0, kc, MR, dst);
}

void packB(bool transB, const float* B, int64_t ldb, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int NR,
           float* dst) {
#if REALM_X86
  if (cpuFeatures().avx2Fma) {
    if (transB && NR % 8 == 0) return packBTransAvx2(B, ldb, k0, kc, j0, nc, NR, dst);
    if (!transB && NR == 16) return copyPanelsAvx2<16>(B, ldb, k0, j0, kc, nc, dst);
    if (!transB && NR == 32) return copyPanelsAvx2<32>(B, ldb, k0, j0, kc, nc, dst);
  }
#endif
  packBGeneric(transB, B, ldb, k0, kc, j0, nc, NR, dst);
}

}  // namespace gemm
}  // namespace realm
