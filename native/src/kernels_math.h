// Branch-free float math for the element-wise kernels, written so compilers auto-vectorise the calling loops
// (AVX2 clones in kernels_*.cc): exp (Cephes-style range reduction + degree-5 polynomial, ~1 ulp on the
// clamped range, exact 0 below -87.3), erfc (Numerical Recipes erfcc, relative error < 1.2e-7 everywhere),
// and lane-parallel row reductions (8 independent accumulators, so no reassociation flags are needed).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include "cpu.h"

namespace realm {
namespace kmath {

REALM_INLINE float bitsToFloat(int32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}

// e^x for float x; NaN propagates, x < -87.3 gives 0, x > 88 saturates at e^88.
REALM_INLINE float expf(float x) {
  const bool under = x < -87.3f;
  float c = x > 88.0f ? 88.0f : x;
  c = c < -87.3f ? -87.3f : c;
  // Round to nearest with the 1.5 * 2^23 trick (vectorises without SSE4.1, unlike floor).
  const float fi = (c * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = c - fi * 0.693359375f;
  r = r + fi * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * r * r + r + 1.0f;
  const float scale = bitsToFloat(((int32_t)fi + 127) << 23);
  return under ? 0.0f : y * scale;
}

// GELU constants (erf form x Phi(x); tanh form with u = sqrt(2/pi) (x + 0.044715 x^3)).
constexpr float kSqrt2OverPi = 0.79788456080286536f;  // sqrt(2 / pi)
constexpr float kInvSqrt2Pi = 0.39894228040143268f;   // 1 / sqrt(2 pi)
constexpr float kGeluC = 0.044715f;

// erfc(z) for z >= 0 with relative error < 1.2e-7 (Numerical Recipes, Chebyshev fit).
REALM_INLINE float erfcPos(float z) {
  const float t = 1.0f / (1.0f + 0.5f * z);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  return t * expf(p - z * z);
}

// Standard normal CDF Phi(x) = 0.5 * erfc(-x / sqrt(2)), relatively accurate in both tails.
REALM_INLINE float normCdf(float x) {
  const float h = 0.5f * erfcPos(std::fabs(x) * 0.70710678118654752f);
  return x < 0.0f ? h : 1.0f - h;
}

// The tanh-form GELU is exactly x (x > 20) or 0 (x < -20) in float; its gate and derivative are computed on x
// clamped to [-20, 20] so x^3 cannot overflow into inf * 0.
REALM_INLINE float clampGelu(float x) { return x > 20.0f ? 20.0f : (x < -20.0f ? -20.0f : x); }

// sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3): the tanh form's 0.5 (1 + tanh(u)); exactly 0 where e^(-2u)
// would overflow (expf saturates at e^88, which would leave a spurious 6e-39).
REALM_INLINE float tanhGate(float x) {
  const float v = clampGelu(x);
  const float m2u = -2.0f * kSqrt2OverPi * (v + kGeluC * v * v * v);
  return m2u > 88.0f ? 0.0f : 1.0f / (1.0f + expf(m2u));
}

// Lane-parallel reductions over n floats (8 accumulators; the tail goes to lane 0).
REALM_INLINE float rowMax(const float* x, int64_t n) {
  float m[8];
  for (int l = 0; l < 8; l++) m[l] = -INFINITY;
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    for (int l = 0; l < 8; l++) m[l] = x[j + l] > m[l] ? x[j + l] : m[l];
  for (; j < n; j++) m[0] = x[j] > m[0] ? x[j] : m[0];
  float r = m[0];
  for (int l = 1; l < 8; l++) r = m[l] > r ? m[l] : r;
  return r;
}

REALM_INLINE float laneSum(const float* s) {
  return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

// Row max for a softmax shift: a fully masked row (all -inf) gives 0 so x - max stays defined (js does the same).
REALM_INLINE float softmaxShift(const float* x, int64_t n) {
  const float mx = rowMax(x, n);
  return mx == -INFINITY ? 0.0f : mx;
}

// sum_j e^(x[j] - m) with 8 lane accumulators; out[j] = e^(x[j] - m) as well unless out is null (out may alias x).
REALM_INLINE float expShiftSum(const float* x, float m, float* out, int64_t n) {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t j = 0;
  if (out) {
    for (; j + 8 <= n; j += 8)
      for (int l = 0; l < 8; l++) {
        const float e = expf(x[j + l] - m);
        out[j + l] = e;
        s[l] += e;
      }
    for (; j < n; j++) {
      const float e = expf(x[j] - m);
      out[j] = e;
      s[0] += e;
    }
  } else {
    for (; j + 8 <= n; j += 8)
      for (int l = 0; l < 8; l++) s[l] += expf(x[j + l] - m);
    for (; j < n; j++) s[0] += expf(x[j] - m);
  }
  return laneSum(s);
}

}  // namespace kmath
}  // namespace realm

// Defines `name(args)` dispatching at run time between an AVX2+FMA clone and a baseline clone of the always-inline
// body `name##Body`; both clones are compiled from the same source (the compiler vectorises each for its ISA).
#define REALM_DISPATCH(name, params, args)                                           \
  REALM_TARGET_AVX2 __attribute__((flatten)) static void name##Avx2 params { name##Body args; } \
  __attribute__((flatten)) static void name##Base params { name##Body args; }        \
  static void name params {                                                          \
    if (::realm::cpuFeatures().avx2Fma) name##Avx2 args;                             \
    else name##Base args;                                                            \
  }
