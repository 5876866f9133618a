// Hand-vectorised AVX2+FMA versions of the GELU math (8 floats per register, U registers per step), for the kernels
// whose auto-vectorised clones stayed slow (~2 ns per element for the erf GELU). Same formulas and constants as the
// scalar kmath::expf / erfcPos / normCdf / tanhGate (kernels_math.h), which still handle the tails and the baseline
// (non-AVX2) clones; results agree with them to a few ulp (FMA contraction and rounding order differ).
// Every function here carries the avx2,fma target and must only be called from functions that carry it too.
#pragma once
#include <cstdint>

#include "cpu.h"
#include "kernels_math.h"

#if REALM_X86
#include <immintrin.h>

namespace realm {
namespace simd {

#define REALM_SIMD REALM_TARGET_AVX2 REALM_INLINE

REALM_SIMD __m256 set1(float v) { return _mm256_set1_ps(v); }

// The functions below work on U registers at once, step by step across the U lanes, so the long dependency chains
// (a 10-term Horner polynomial, the exp, a divide) of U independent vectors interleave in program order: with one
// vector per iteration the out-of-order window held about one chain and the erf GELU ran at ~2 ns per element, with
// U = 4 at ~1.2 (C++ harness, L1-resident data, 1 thread).

// x[k] = e^x[k], as kmath::expf: NaN propagates, x < -87.3 gives 0, x > 88 saturates at e^88.
template <int U>
REALM_SIMD void exp8(__m256* x) {
  __m256 under[U], fi[U], r[U], p[U];
  for (int k = 0; k < U; k++) {
    under[k] = _mm256_cmp_ps(x[k], set1(-87.3f), _CMP_LT_OQ);
    // min/max return the second operand when one is NaN, so NaN stays NaN
    const __m256 c = _mm256_max_ps(set1(-87.3f), _mm256_min_ps(set1(88.0f), x[k]));
    fi[k] = _mm256_round_ps(_mm256_mul_ps(c, set1(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    r[k] = _mm256_fmadd_ps(fi[k], set1(2.12194440e-4f), _mm256_fnmadd_ps(fi[k], set1(0.693359375f), c));
  }
  static constexpr float kP[6] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f, 4.1665795894e-2f,
                                  1.6666665459e-1f, 5.0000001201e-1f};
  for (int k = 0; k < U; k++) p[k] = _mm256_fmadd_ps(set1(kP[0]), r[k], set1(kP[1]));
  for (int j = 2; j < 6; j++)
    for (int k = 0; k < U; k++) p[k] = _mm256_fmadd_ps(p[k], r[k], set1(kP[j]));
  for (int k = 0; k < U; k++) {
    const __m256 y = _mm256_add_ps(_mm256_fmadd_ps(_mm256_mul_ps(p[k], r[k]), r[k], r[k]), set1(1.0f));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fi[k]), _mm256_set1_epi32(127)), 23);
    x[k] = _mm256_andnot_ps(under[k], _mm256_mul_ps(y, _mm256_castsi256_ps(e)));
  }
}

// cdf[k] = Phi(x[k]) = 0.5 erfc(-x / sqrt 2), as kmath::normCdf (Numerical Recipes erfc, relative error < 1.2e-7,
// accurate in both tails).
template <int U>
REALM_SIMD void normCdf8(const __m256* x, __m256* cdf) {
  const __m256 one = set1(1.0f), half = set1(0.5f);
  __m256 z[U], t[U], p[U];
  for (int k = 0; k < U; k++) {
    z[k] = _mm256_mul_ps(_mm256_andnot_ps(set1(-0.0f), x[k]), set1(0.70710678118654752f));
    t[k] = _mm256_div_ps(one, _mm256_fmadd_ps(half, z[k], one));
  }
  static constexpr float kC[10] = {0.17087277f,  -0.82215223f, 1.48851587f, -1.13520398f, 0.27886807f,
                                   -0.18628806f, 0.09678418f,  0.37409196f, 1.00002368f,  -1.26551223f};
  for (int k = 0; k < U; k++) p[k] = _mm256_fmadd_ps(set1(kC[0]), t[k], set1(kC[1]));
  for (int j = 2; j < 10; j++)
    for (int k = 0; k < U; k++) p[k] = _mm256_fmadd_ps(p[k], t[k], set1(kC[j]));
  for (int k = 0; k < U; k++) p[k] = _mm256_fnmadd_ps(z[k], z[k], p[k]);
  exp8<U>(p);
  for (int k = 0; k < U; k++) {
    const __m256 h = _mm256_mul_ps(half, _mm256_mul_ps(t[k], p[k]));
    cdf[k] = _mm256_blendv_ps(_mm256_sub_ps(one, h), h, _mm256_cmp_ps(x[k], _mm256_setzero_ps(), _CMP_LT_OQ));
  }
}

using kmath::kGeluC;
using kmath::kInvSqrt2Pi;
using kmath::kSqrt2OverPi;

// The input clamped to [-20, 20], as kmath::clampGelu (NaN stays NaN).
REALM_SIMD __m256 clampGelu8(__m256 v) { return _mm256_max_ps(set1(-20.0f), _mm256_min_ps(set1(20.0f), v)); }

// s[k] = sigmoid(2u), u = sqrt(2/pi) (v + 0.044715 v^3) on v clamped: the tanh form's 0.5 (1 + tanh(u)), as
// kmath::tanhGate (exactly 0 where e^(-2u) would overflow).
template <int U>
REALM_SIMD void tanhGate8(const __m256* v, __m256* s) {
  __m256 e[U], over[U];
  for (int k = 0; k < U; k++) {
    const __m256 c = clampGelu8(v[k]);
    const __m256 u = _mm256_mul_ps(_mm256_mul_ps(set1(kSqrt2OverPi), c),
                                   _mm256_fmadd_ps(set1(kGeluC), _mm256_mul_ps(c, c), set1(1.0f)));
    e[k] = _mm256_mul_ps(set1(-2.0f), u);
    over[k] = _mm256_cmp_ps(e[k], set1(88.0f), _CMP_GT_OQ);
  }
  exp8<U>(e);
  for (int k = 0; k < U; k++)
    s[k] = _mm256_andnot_ps(over[k], _mm256_div_ps(set1(1.0f), _mm256_add_ps(set1(1.0f), e[k])));
}

// v[k] = GELU(v[k]): v Phi(v) (erf form) or v sigmoid(2u) (tanh form "gelu_new").
template <int U>
REALM_SIMD void gelu8(__m256* v, bool tanhApprox) {
  __m256 g[U];
  if (tanhApprox) tanhGate8<U>(v, g);
  else normCdf8<U>(v, g);
  for (int k = 0; k < U; k++) v[k] = _mm256_mul_ps(v[k], g[k]);
}

// v[k] = GELU'(v[k]): Phi(v) + v phi(v) (erf form) or s + 2 v s (1 - s) u' (tanh form, s = sigmoid(2u)).
template <int U>
REALM_SIMD void geluGrad8(__m256* v, bool tanhApprox) {
  __m256 g[U], e[U];
  if (tanhApprox) {
    tanhGate8<U>(v, g);
    for (int k = 0; k < U; k++) {
      const __m256 c = clampGelu8(v[k]);
      const __m256 du = _mm256_mul_ps(set1(kSqrt2OverPi), _mm256_fmadd_ps(set1(3.0f * kGeluC), _mm256_mul_ps(c, c), set1(1.0f)));
      const __m256 sv = _mm256_mul_ps(_mm256_mul_ps(set1(2.0f), c), _mm256_mul_ps(g[k], _mm256_sub_ps(set1(1.0f), g[k])));
      v[k] = _mm256_fmadd_ps(sv, du, g[k]);
    }
    return;
  }
  normCdf8<U>(v, g);
  for (int k = 0; k < U; k++) e[k] = _mm256_mul_ps(set1(-0.5f), _mm256_mul_ps(v[k], v[k]));
  exp8<U>(e);
  for (int k = 0; k < U; k++) v[k] = _mm256_fmadd_ps(v[k], _mm256_mul_ps(set1(kInvSqrt2Pi), e[k]), g[k]);
}

// Runs op on [lo, hi) in groups of 32 floats, then 8; returns the first index it did not reach (the scalar tail).
template <class Op>
REALM_SIMD int64_t spans(int64_t lo, int64_t hi, Op op) {
  int64_t i = lo;
  for (; i + 32 <= hi; i += 32) op.template run<4>(i);
  for (; i + 8 <= hi; i += 8) op.template run<1>(i);
  return i;
}

// One group of U registers at i: out = GELU(x) (forward), or out = dy * GELU'(x) (backward; out may alias dy).
template <bool kBackward>
struct GeluGroupOp {
  const float* x;
  const float* dy;  // backward only
  float* out;
  bool tanhApprox;
  template <int U>
  REALM_SIMD void run(int64_t i) const {
    __m256 v[U];
    for (int k = 0; k < U; k++) v[k] = _mm256_loadu_ps(x + i + 8 * k);
    if (kBackward) {
      geluGrad8<U>(v, tanhApprox);
      for (int k = 0; k < U; k++) v[k] = _mm256_mul_ps(_mm256_loadu_ps(dy + i + 8 * k), v[k]);
    } else {
      gelu8<U>(v, tanhApprox);
    }
    for (int k = 0; k < U; k++) _mm256_storeu_ps(out + i + 8 * k, v[k]);
  }
};

// out[i] = GELU(x[i]) for i in [lo, hi) (out may alias x); returns the first index it did not write (the scalar tail).
REALM_SIMD int64_t geluSpan(const float* x, float* out, int64_t lo, int64_t hi, bool tanhApprox) {
  return spans(lo, hi, GeluGroupOp<false>{x, nullptr, out, tanhApprox});
}

// dx[i] = dy[i] GELU'(x[i]) for i in [lo, hi) (dx may alias dy); returns the first index not written.
REALM_SIMD int64_t geluBackwardSpan(const float* x, const float* dy, float* dx, int64_t lo, int64_t hi, bool tanhApprox) {
  return spans(lo, hi, GeluGroupOp<true>{x, dy, dx, tanhApprox});
}

#undef REALM_SIMD

}  // namespace simd
}  // namespace realm
#endif

// Like REALM_DISPATCH (kernels_math.h), for kernels whose AVX2 clone `name##Avx2` is written by hand with the
// intrinsics above (defined before this, under #if REALM_X86): defines the baseline clone from `name##Body` and the
// run-time dispatcher `name`.
#if REALM_X86
#define REALM_DISPATCH_SIMD(name, params, args)                                       \
  __attribute__((flatten)) static void name##Base params { name##Body args; }         \
  static void name params {                                                           \
    if (::realm::cpuFeatures().avx2Fma) name##Avx2 args;                              \
    else name##Base args;                                                             \
  }
#else
#define REALM_DISPATCH_SIMD(name, params, args)                                       \
  static void name##Base params { name##Body args; }                                  \
  static void name params { name##Base args; }
#endif
