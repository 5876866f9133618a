// Anisotropic vector quantisation (Guo et al. 2020, "Accelerating Large-Scale Inference with Anisotropic Vector
// Quantization", §3): product quantisation of residuals r (16 centres per block of 2 dimensions) trained and
// encoded under the score-aware loss
//     loss_i = ||e_i||^2 + w_i * (u_i . e_i)^2,   e_i = r_i - q(r_i),  u_i = x_i / ||x_i||,  w_i = eta(x_i) - 1,
// i.e. eta times the squared error parallel to the datapoint x_i plus the orthogonal error (w_i = 0 is plain PQ).
// Both steps are exact block-coordinate descent, so the objective never increases:
//   assignment: per point, sweep the blocks; for block b pick the centre minimising the loss with the others fixed;
//   codebook:   per block b and centre c, the 2x2 normal equations
//               (n_c I + sum w u_b u_b^T) c = sum t_b + sum w (g + u_b . t_b) u_b,
//               g = the point's parallel error without block b, t_b = its residual in block b.
// Exports indexApqTrain and indexApqEncode (src/index/anisotropic.ts has the matching TypeScript fallback).
#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <mutex>

#include "index_common.h"
#include "index_napi.h"
#include "pool.h"

namespace realm {
namespace idx {
namespace {

// The per-point loops below are written so GCC vectorises the 16-centre loss evaluations (float, AVX2 when the
// CPU has it: the functions are compiled twice through target_clones); the decision that changes a code is then
// re-checked in double precision, so the objective still never increases.

// Isotropic nearest centre per block (initial codes).
__attribute__((target_clones("avx2", "default")))
void nearestCodes(const float* t, int M, const float* cb, uint8_t* code) {
  for (int b = 0; b < M; b++) {
    const float* c = cb + (size_t)b * kCentres * 2;
    float l[kCentres];
    const float t0 = t[2 * b], t1 = t[2 * b + 1];
    for (int k = 0; k < kCentres; k++) {
      const float dx = t0 - c[2 * k], dy = t1 - c[2 * k + 1];
      l[k] = dx * dx + dy * dy;
    }
    int bi = 0;
    for (int k = 1; k < kCentres; k++)
      if (l[k] < l[bi]) bi = k;
    code[b] = (uint8_t)bi;
  }
}

// One coordinate-descent sweep over the blocks of one point. t, u: [2M]; code: [M] in/out.
__attribute__((target_clones("avx2", "default")))
void sweepPoint(const float* t, const float* u, double w, int M, const float* cb, uint8_t* code) {
  double P = 0;  // u . e
  for (int b = 0; b < M; b++) {
    const float* c = cb + ((size_t)b * kCentres + code[b]) * 2;
    P += (double)u[2 * b] * (t[2 * b] - c[0]) + (double)u[2 * b + 1] * (t[2 * b + 1] - c[1]);
  }
  const float wf = (float)w;
  for (int b = 0; b < M; b++) {
    const float* cbb = cb + (size_t)b * kCentres * 2;
    const double t0 = t[2 * b], t1 = t[2 * b + 1], u0 = u[2 * b], u1 = u[2 * b + 1];
    const int old = code[b];
    const double g = P - (u0 * (t0 - cbb[2 * old]) + u1 * (t1 - cbb[2 * old + 1]));
    const float gf = (float)g, t0f = (float)t0, t1f = (float)t1, u0f = (float)u0, u1f = (float)u1;
    float l[kCentres];
    for (int k = 0; k < kCentres; k++) {
      const float e0 = t0f - cbb[2 * k], e1 = t1f - cbb[2 * k + 1];
      const float p = gf + u0f * e0 + u1f * e1;
      l[k] = e0 * e0 + e1 * e1 + wf * p * p;
    }
    int bi = old;
    for (int k = 0; k < kCentres; k++)
      if (l[k] < l[bi]) bi = k;
    if (bi != old) {  // accept only a strict improvement in double precision
      auto exact = [&](int k) {
        const double e0 = t0 - cbb[2 * k], e1 = t1 - cbb[2 * k + 1];
        const double p = g + u0 * e0 + u1 * e1;
        return e0 * e0 + e1 * e1 + w * p * p;
      };
      if (!(exact(bi) < exact(old))) bi = old;
    }
    code[b] = (uint8_t)bi;
    P = g + u0 * (t0 - cbb[2 * bi]) + u1 * (t1 - cbb[2 * bi + 1]);
  }
}

// Codebooks [M, 16, 2] de-interleaved to [M, 2, 16] (x coordinates of the 16 centres, then y) for the AVX2 sweep.
std::vector<float> deinterleave(const float* cb, int M) {
  std::vector<float> out((size_t)M * 2 * kCentres);
  for (int b = 0; b < M; b++)
    for (int k = 0; k < kCentres; k++) {
      out[(size_t)b * 32 + k] = cb[((size_t)b * kCentres + k) * 2];
      out[(size_t)b * 32 + 16 + k] = cb[((size_t)b * kCentres + k) * 2 + 1];
    }
  return out;
}

// sweepPoint with explicit AVX2: the 16 losses of a block in two ymm, the arg-min from a vector min and one
// compare + movemask (same choice as the scalar scan: the old code if it attains the minimum, else the first
// centre that does), then the same double-precision acceptance test.
__attribute__((target("avx2,fma"))) void sweepPointAvx2(const float* t, const float* u, double w, int M,
                                                         const float* cb, const float* cbT, uint8_t* code) {
  double P = 0;  // u . e
  for (int b = 0; b < M; b++) {
    const float* c = cb + ((size_t)b * kCentres + code[b]) * 2;
    P += (double)u[2 * b] * (t[2 * b] - c[0]) + (double)u[2 * b + 1] * (t[2 * b + 1] - c[1]);
  }
  const __m256 wv = _mm256_set1_ps((float)w);
  alignas(32) float l[kCentres];
  for (int b = 0; b < M; b++) {
    const float* cbb = cb + (size_t)b * kCentres * 2;
    const float* ct = cbT + (size_t)b * 32;
    const double t0 = t[2 * b], t1 = t[2 * b + 1], u0 = u[2 * b], u1 = u[2 * b + 1];
    const int old = code[b];
    const double g = P - (u0 * (t0 - cbb[2 * old]) + u1 * (t1 - cbb[2 * old + 1]));
    const __m256 t0v = _mm256_set1_ps((float)t0), t1v = _mm256_set1_ps((float)t1);
    const __m256 u0v = _mm256_set1_ps((float)u0), u1v = _mm256_set1_ps((float)u1), gv = _mm256_set1_ps((float)g);
    const __m256 ea0 = _mm256_sub_ps(t0v, _mm256_loadu_ps(ct)), eb0 = _mm256_sub_ps(t0v, _mm256_loadu_ps(ct + 8));
    const __m256 ea1 = _mm256_sub_ps(t1v, _mm256_loadu_ps(ct + 16)), eb1 = _mm256_sub_ps(t1v, _mm256_loadu_ps(ct + 24));
    const __m256 pa = _mm256_fmadd_ps(u1v, ea1, _mm256_fmadd_ps(u0v, ea0, gv));
    const __m256 pb = _mm256_fmadd_ps(u1v, eb1, _mm256_fmadd_ps(u0v, eb0, gv));
    const __m256 la = _mm256_fmadd_ps(wv, _mm256_mul_ps(pa, pa), _mm256_fmadd_ps(ea1, ea1, _mm256_mul_ps(ea0, ea0)));
    const __m256 lb = _mm256_fmadd_ps(wv, _mm256_mul_ps(pb, pb), _mm256_fmadd_ps(eb1, eb1, _mm256_mul_ps(eb0, eb0)));
    _mm256_store_ps(l, la);
    _mm256_store_ps(l + 8, lb);
    __m256 m = _mm256_min_ps(la, lb);
    m = _mm256_min_ps(m, _mm256_permute2f128_ps(m, m, 1));
    m = _mm256_min_ps(m, _mm256_shuffle_ps(m, m, 0x4e));
    m = _mm256_min_ps(m, _mm256_shuffle_ps(m, m, 0xb1));
    int bi = old;
    if (!(l[old] <= _mm256_cvtss_f32(m))) {
      const uint32_t mask = (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(la, m, _CMP_EQ_OQ)) |
                            ((uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(lb, m, _CMP_EQ_OQ)) << 8);
      if (mask) bi = __builtin_ctz(mask);
    }
    if (bi != old) {  // accept only a strict improvement in double precision
      auto exact = [&](int k) {
        const double e0 = t0 - cbb[2 * k], e1 = t1 - cbb[2 * k + 1];
        const double p = g + u0 * e0 + u1 * e1;
        return e0 * e0 + e1 * e1 + w * p * p;
      };
      if (!(exact(bi) < exact(old))) bi = old;
    }
    code[b] = (uint8_t)bi;
    P = g + u0 * (t0 - cbb[2 * bi]) + u1 * (t1 - cbb[2 * bi + 1]);
  }
}

// One sweep over one point with the best kernel available (cbT: deinterleave(cb), used on AVX2 CPUs).
inline void sweep(const float* t, const float* u, double w, int M, const float* cb, const float* cbT, uint8_t* code) {
  if (cpuHasAvx2()) sweepPointAvx2(t, u, w, M, cb, cbT, code);
  else sweepPoint(t, u, w, M, cb, code);
}

double lossOf(const float* t, const float* u, double w, int M, const float* cb, const uint8_t* code) {
  double e2 = 0, P = 0;
  for (int b = 0; b < M; b++) {
    const float* c = cb + ((size_t)b * kCentres + code[b]) * 2;
    const double e0 = (double)t[2 * b] - c[0], e1 = (double)t[2 * b + 1] - c[1];
    e2 += e0 * e0 + e1 * e1;
    P += u[2 * b] * e0 + u[2 * b + 1] * e1;
  }
  return e2 + w * P * P;
}

double totalLoss(const float* T, const float* U, const float* W, int64_t n, int M, const float* cb, const uint8_t* codes) {
  const int dp = 2 * M;
  double total = 0;
  std::mutex mu;
  parallelFor(n, 1024, [&](int64_t lo, int64_t hi) {
    double s = 0;
    for (int64_t i = lo; i < hi; i++) s += lossOf(T + i * dp, U + i * dp, W[i], M, cb, codes + i * M);
    std::lock_guard<std::mutex> lk(mu);
    total += s;
  });
  return total;
}

// Codebook step: blocks in sequence, exact 2x2 least squares per centre, parallel errors updated in between.
void codebookStep(const float* T, const float* U, const float* W, int64_t n, int M, float* cb, const uint8_t* codes) {
  const int dp = 2 * M;
  std::vector<double> P(n);
  parallelFor(n, 1024, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; i++) {
      double p = 0;
      for (int b = 0; b < M; b++) {
        const float* c = cb + ((size_t)b * kCentres + codes[i * M + b]) * 2;
        p += (double)U[i * dp + 2 * b] * (T[i * dp + 2 * b] - c[0]) + (double)U[i * dp + 2 * b + 1] * (T[i * dp + 2 * b + 1] - c[1]);
      }
      P[i] = p;
    }
  });
  for (int b = 0; b < M; b++) {
    double A[kCentres][3] = {}, rhs[kCentres][2] = {};
    float* cbb = cb + (size_t)b * kCentres * 2;
    for (int64_t i = 0; i < n; i++) {
      const int k = codes[i * M + b];
      const double t0 = T[i * dp + 2 * b], t1 = T[i * dp + 2 * b + 1], u0 = U[i * dp + 2 * b], u1 = U[i * dp + 2 * b + 1];
      const double w = W[i];
      const double a = P[i] - (u0 * (t0 - cbb[2 * k]) + u1 * (t1 - cbb[2 * k + 1])) + u0 * t0 + u1 * t1;
      A[k][0] += 1 + w * u0 * u0;
      A[k][1] += w * u0 * u1;
      A[k][2] += 1 + w * u1 * u1;
      rhs[k][0] += t0 + w * a * u0;
      rhs[k][1] += t1 + w * a * u1;
    }
    float fresh[kCentres * 2];
    for (int k = 0; k < kCentres; k++) {
      const double det = A[k][0] * A[k][2] - A[k][1] * A[k][1];
      if (!(det > 1e-12)) {  // empty centre (or degenerate): keep it
        fresh[2 * k] = cbb[2 * k];
        fresh[2 * k + 1] = cbb[2 * k + 1];
        continue;
      }
      fresh[2 * k] = (float)((A[k][2] * rhs[k][0] - A[k][1] * rhs[k][1]) / det);
      fresh[2 * k + 1] = (float)((A[k][0] * rhs[k][1] - A[k][1] * rhs[k][0]) / det);
    }
    for (int64_t i = 0; i < n; i++) {
      const int k = codes[i * M + b];
      P[i] += (double)U[i * dp + 2 * b] * (cbb[2 * k] - fresh[2 * k]) + (double)U[i * dp + 2 * b + 1] * (cbb[2 * k + 1] - fresh[2 * k + 1]);
    }
    std::memcpy(cbb, fresh, sizeof(fresh));
  }
}

struct ApqArgs {
  Arr<float> T, U, W, cb;
  Arr<uint8_t> codes;
  int64_t n = 0;
  int M = 0;
};

bool readApq(const Napi::CallbackInfo& info, ApqArgs& a, const char* fn) {
  Napi::Env env = info.Env();
  if (!getArr(info, 0, napi_float32_array, a.T, "residuals") || !getArr(info, 1, napi_float32_array, a.U, "directions") ||
      !getArr(info, 2, napi_float32_array, a.W, "weights"))
    return false;
  a.n = (int64_t)info[3].As<Napi::Number>().Int64Value();
  a.M = info[4].As<Napi::Number>().Int32Value();
  if (!getArr(info, 5, napi_float32_array, a.cb, "codebooks") || !getArr(info, 6, napi_uint8_array, a.codes, "codes"))
    return false;
  const size_t dp = 2 * (size_t)a.M;
  if (a.n < 0 || a.M < 1 || a.T.len < a.n * dp || a.U.len < a.n * dp || a.W.len < (size_t)a.n ||
      a.cb.len < (size_t)a.M * kCentres * 2 || a.codes.len < a.n * (size_t)a.M) {
    throwErr(env, std::string(fn) + ": inconsistent sizes");
    return false;
  }
  return true;
}

// indexApqTrain(residuals F32 [n*2M], directions F32 [n*2M], weights F32 [n], n, M, codebooks F32 [M*16*2] (in/out),
//               codes U8 [n*M] (in/out), iterations, initCodes) -> Float64Array [iterations+1] objective values
Napi::Value IndexApqTrain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ApqArgs a;
  if (!readApq(info, a, "indexApqTrain")) return env.Undefined();
  const int iters = info[7].As<Napi::Number>().Int32Value();
  const bool init = info[8].ToBoolean().Value();
  const int dp = 2 * a.M;
  if (init)
    parallelFor(a.n, 256, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; i++) nearestCodes(a.T.p + i * dp, a.M, a.cb.p, a.codes.p + i * a.M);
    });
  Napi::Float64Array losses = Napi::Float64Array::New(env, iters + 1);
  losses[0] = totalLoss(a.T.p, a.U.p, a.W.p, a.n, a.M, a.cb.p, a.codes.p);
  for (int it = 0; it < iters; it++) {
    const std::vector<float> cbT = deinterleave(a.cb.p, a.M);
    parallelFor(a.n, 256, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; i++) sweep(a.T.p + i * dp, a.U.p + i * dp, a.W.p[i], a.M, a.cb.p, cbT.data(), a.codes.p + i * a.M);
    });
    codebookStep(a.T.p, a.U.p, a.W.p, a.n, a.M, a.cb.p, a.codes.p);
    losses[it + 1] = totalLoss(a.T.p, a.U.p, a.W.p, a.n, a.M, a.cb.p, a.codes.p);
  }
  return losses;
}

// indexApqEncode(residuals, directions, weights, n, M, codebooks, outCodes U8 [n*M], sweeps) -> undefined
Napi::Value IndexApqEncode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ApqArgs a;
  if (!readApq(info, a, "indexApqEncode")) return env.Undefined();
  const int sweeps = info[7].As<Napi::Number>().Int32Value();
  const int dp = 2 * a.M;
  const std::vector<float> cbT = deinterleave(a.cb.p, a.M);
  parallelFor(a.n, 256, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; i++) {
      nearestCodes(a.T.p + i * dp, a.M, a.cb.p, a.codes.p + i * a.M);
      if (a.W.p[i] != 0.f)
        for (int s = 0; s < sweeps; s++) sweep(a.T.p + i * dp, a.U.p + i * dp, a.W.p[i], a.M, a.cb.p, cbT.data(), a.codes.p + i * a.M);
    }
  });
  return env.Undefined();
}

}  // namespace

REALM_EXPORT("indexApqTrain", IndexApqTrain);
REALM_EXPORT("indexApqEncode", IndexApqEncode);

}  // namespace idx
}  // namespace realm
