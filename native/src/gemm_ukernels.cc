// GEMM micro-kernels (BLIS-style register blocking). The kernel body is written once as a template over a small
// vector-trait class and compiled per ISA (target attributes + flatten), so one portable binary carries every path
// and picks one at run time (see gemm.cc):
//   avx2      6 x 16 tile, 12 ymm accumulators, broadcast A + FMA (Haswell / Zen; near peak on Zen 3)
//   avx512    12 x 32 tile, 24 zmm accumulators (Skylake-X and later; selected when the CPU has AVX-512F)
//   avx512emu the avx512 tile and packing with 16-wide vectors emulated by ymm pairs on AVX2: exercises the
//             AVX-512 code path (same body, same MR/NR) on machines without AVX-512, for tests
//   generic   4 x 8 tile of 4-wide GCC/Clang vectors (SSE2 on baseline x86-64, NEON on arm64, scalar elsewhere)
#include <cstring>

#include "cpu.h"
#include "gemm.h"
#if REALM_X86
#include <immintrin.h>
#endif

namespace realm {
namespace gemm {
namespace {

#pragma GCC diagnostic ignored "-Wpsabi"  // vector values only cross calls that are inlined (flatten)

#if REALM_X86
struct Avx2 {
  typedef __m256 V;
  static constexpr int W = 8;
  REALM_TARGET_AVX2 static inline V zero() { return _mm256_setzero_ps(); }
  REALM_TARGET_AVX2 static inline V load(const float* p) { return _mm256_load_ps(p); }
  REALM_TARGET_AVX2 static inline V loadu(const float* p) { return _mm256_loadu_ps(p); }
  REALM_TARGET_AVX2 static inline void storeu(float* p, V v) { _mm256_storeu_ps(p, v); }
  REALM_TARGET_AVX2 static inline V splat(const float* p) { return _mm256_broadcast_ss(p); }
  REALM_TARGET_AVX2 static inline V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  REALM_TARGET_AVX2 static inline V mul(V a, V b) { return _mm256_mul_ps(a, b); }
};

struct Avx512 {
  typedef __m512 V;
  static constexpr int W = 16;
  REALM_TARGET_AVX512 static inline V zero() { return _mm512_setzero_ps(); }
  REALM_TARGET_AVX512 static inline V load(const float* p) { return _mm512_load_ps(p); }
  REALM_TARGET_AVX512 static inline V loadu(const float* p) { return _mm512_loadu_ps(p); }
  REALM_TARGET_AVX512 static inline void storeu(float* p, V v) { _mm512_storeu_ps(p, v); }
  REALM_TARGET_AVX512 static inline V splat(const float* p) { return _mm512_set1_ps(*p); }
  REALM_TARGET_AVX512 static inline V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  REALM_TARGET_AVX512 static inline V mul(V a, V b) { return _mm512_mul_ps(a, b); }
};

// 16-wide vectors as two ymm halves: the Avx512 kernel's arithmetic, runnable on AVX2.
struct Avx512Emu {
  struct V {
    __m256 lo, hi;
  };
  static constexpr int W = 16;
  REALM_TARGET_AVX2 static inline V zero() { return {_mm256_setzero_ps(), _mm256_setzero_ps()}; }
  REALM_TARGET_AVX2 static inline V load(const float* p) { return {_mm256_load_ps(p), _mm256_load_ps(p + 8)}; }
  REALM_TARGET_AVX2 static inline V loadu(const float* p) { return {_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)}; }
  REALM_TARGET_AVX2 static inline void storeu(float* p, V v) {
    _mm256_storeu_ps(p, v.lo);
    _mm256_storeu_ps(p + 8, v.hi);
  }
  REALM_TARGET_AVX2 static inline V splat(const float* p) {
    __m256 s = _mm256_broadcast_ss(p);
    return {s, s};
  }
  REALM_TARGET_AVX2 static inline V fma(V a, V b, V c) {
    return {_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi)};
  }
  REALM_TARGET_AVX2 static inline V mul(V a, V b) { return {_mm256_mul_ps(a.lo, b.lo), _mm256_mul_ps(a.hi, b.hi)}; }
};
#endif

// Portable 4-wide vectors (GCC/Clang vector extension).
struct Generic {
  typedef float V __attribute__((vector_size(16)));
  static constexpr int W = 4;
  static inline V zero() { return V{0, 0, 0, 0}; }
  static inline V load(const float* p) {
    V v;
    std::memcpy(&v, p, sizeof(V));
    return v;
  }
  static inline V loadu(const float* p) { return load(p); }
  static inline void storeu(float* p, V v) { std::memcpy(p, &v, sizeof(V)); }
  static inline V splat(const float* p) { return V{*p, *p, *p, *p}; }
  static inline V fma(V a, V b, V c) { return a * b + c; }
  static inline V mul(V a, V b) { return a * b; }
};

// C[0:mr, 0:nr] = alpha * A_panel^T B_panel + beta * C (beta == 0: overwrite) for one MR x NR tile.
// a: packed A panel [kc][MR]; b: packed B panel [kc][NR], 64-byte aligned; c: row stride ldc.
// Direct = true: A is read unpacked at a[i * rs + k * cs] instead (mr == MR required).
template <class T, int MR, int NV, bool Direct = false>
inline void microBody(int64_t kc, const float* __restrict a, const float* __restrict b, float* __restrict c,
                      int64_t ldc, float alpha, float beta, int mr, int nr, int64_t rs = 0, int64_t cs = 0) {
  constexpr int W = T::W;
  constexpr int NR = W * NV;
  typename T::V acc[MR][NV];
#pragma GCC unroll 32
  for (int i = 0; i < MR; i++) {
#pragma GCC unroll 4
    for (int j = 0; j < NV; j++) acc[i][j] = T::zero();
  }
#pragma GCC unroll 32
  for (int i = 0; i < MR; i++) __builtin_prefetch(c + i * ldc, 1, 3);
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; k++) {
    typename T::V bv[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV; j++) bv[j] = T::load(b + j * W);
    if (!Direct) __builtin_prefetch(a + 8 * MR, 0, 3);
#pragma GCC unroll 32
    for (int i = 0; i < MR; i++) {
      const typename T::V ai = T::splat(Direct ? a + i * rs : a + i);
#pragma GCC unroll 4
      for (int j = 0; j < NV; j++) acc[i][j] = T::fma(ai, bv[j], acc[i][j]);
    }
    a += Direct ? cs : MR;
    b += NR;
  }
  const typename T::V av = T::splat(&alpha), bev = T::splat(&beta);
  const bool full = mr == MR && nr == NR;
  alignas(64) float tmp[full ? 1 : MR * NR];
#pragma GCC unroll 32
  for (int i = 0; i < MR; i++) {
#pragma GCC unroll 4
    for (int j = 0; j < NV; j++) {
      typename T::V r = T::mul(acc[i][j], av);
      if (!full) {
        T::storeu(tmp + i * NR + j * W, r);
        continue;
      }
      float* p = c + i * ldc + j * W;
      if (beta != 0.0f) r = T::fma(T::loadu(p), bev, r);
      T::storeu(p, r);
    }
  }
  if (full) return;
  for (int i = 0; i < mr; i++) {
    float* p = c + i * ldc;
    const float* t = tmp + i * NR;
    if (beta == 0.0f) {
      for (int j = 0; j < nr; j++) p[j] = t[j];
    } else {
      for (int j = 0; j < nr; j++) p[j] = t[j] + beta * p[j];
    }
  }
}

#define REALM_UK_ARGS \
  int64_t kc, const float *a, const float *b, float *c, int64_t ldc, float alpha, float beta, int mr, int nr
#define REALM_UK_PASS kc, a, b, c, ldc, alpha, beta, mr, nr

#define REALM_UKD_ARGS                                                                                       \
  int64_t kc, const float *a, int64_t rs, int64_t cs, const float *b, float *c, int64_t ldc, float alpha, float beta, \
      int mr, int nr
#define REALM_UKD_PASS kc, a, b, c, ldc, alpha, beta, mr, nr, rs, cs

#if REALM_X86
REALM_TARGET_AVX2 __attribute__((flatten)) void ukAvx2(REALM_UK_ARGS) { microBody<Avx2, 6, 2>(REALM_UK_PASS); }
REALM_TARGET_AVX2 __attribute__((flatten)) void ukdAvx2(REALM_UKD_ARGS) {
  microBody<Avx2, 6, 2, true>(REALM_UKD_PASS);
}
REALM_TARGET_AVX512 __attribute__((flatten)) void ukdAvx512(REALM_UKD_ARGS) {
  microBody<Avx512, 12, 2, true>(REALM_UKD_PASS);
}
REALM_TARGET_AVX2 __attribute__((flatten)) void ukdAvx512Emu(REALM_UKD_ARGS) {
  microBody<Avx512Emu, 12, 2, true>(REALM_UKD_PASS);
}
REALM_TARGET_AVX512 __attribute__((flatten)) void ukAvx512(REALM_UK_ARGS) {
  microBody<Avx512, 12, 2>(REALM_UK_PASS);
}
REALM_TARGET_AVX2 __attribute__((flatten)) void ukAvx512Emu(REALM_UK_ARGS) {
  microBody<Avx512Emu, 12, 2>(REALM_UK_PASS);
}
#endif
__attribute__((flatten)) void ukGeneric(REALM_UK_ARGS) { microBody<Generic, 4, 2>(REALM_UK_PASS); }
__attribute__((flatten)) void ukdGeneric(REALM_UKD_ARGS) { microBody<Generic, 4, 2, true>(REALM_UKD_PASS); }

}  // namespace

#if REALM_X86
const MicroKernel* kernelAvx2() {
  static const MicroKernel k{"avx2", 6, 16, 144, 256, 4080, ukAvx2, ukdAvx2};
  return &k;
}
const MicroKernel* kernelAvx512() {
  static const MicroKernel k{"avx512", 12, 32, 144, 256, 4064, ukAvx512, ukdAvx512};
  return &k;
}
const MicroKernel* kernelAvx512Emu() {
  static const MicroKernel k{"avx512emu", 12, 32, 144, 256, 4064, ukAvx512Emu, ukdAvx512Emu};
  return &k;
}
#else
const MicroKernel* kernelAvx2() { return nullptr; }
const MicroKernel* kernelAvx512() { return nullptr; }
const MicroKernel* kernelAvx512Emu() { return nullptr; }
#endif
const MicroKernel* kernelGeneric() {
  static const MicroKernel k{"generic", 4, 8, 128, 256, 4096, ukGeneric, ukdGeneric};
  return &k;
}

}  // namespace gemm
}  // namespace realm
