// Fused element-wise / row kernels of the BERT train step (issue 3 performance): counter-based dropout (the keep
// mask is a hash of (seed, element index), so backward regenerates it instead of storing a mask), softmax of rows
// plus a per-group additive bias (attention scores + padding mask in one pass), row bias adds and column sums (dense
// layer bias forward / gradient) and out = alpha * x + beta * y (residual adds, in-place gradient accumulation,
// loss-gradient scaling).
// Each kernel is vectorised through an AVX2 clone (REALM_DISPATCH) and split over the thread pool when large.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "kernels_args.h"
#include "kernels_math.h"
#include "pool.h"
#include "registry.h"

namespace realm {
namespace kernels {
namespace {

// The dropout hash: murmur3's fmix32 of i * golden + s0, with s1 mixed in mid-way. Same bits as the TypeScript
// backend's dropHash (src/engine/backends/js.ts).
REALM_INLINE uint32_t dropHash(uint32_t i, uint32_t s0, uint32_t s1) {
  uint32_t h = i * 0x9E3779B1u + s0;
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= s1;
  h ^= h >> 13;
  h *= 0xC2B2AE35u;
  h ^= h >> 16;
  return h;
}

REALM_INLINE void dropoutRangeBody(const float* x, float* out, int64_t lo, int64_t hi, uint32_t thr, float scale,
                                   uint32_t s0, uint32_t s1) {
  for (int64_t i = lo; i < hi; i++) {
    const uint32_t h = dropHash((uint32_t)i, s0, s1);
    out[i] = h >= thr ? x[i] * scale : 0.0f;
  }
}
REALM_DISPATCH(dropoutRange,
               (const float* x, float* out, int64_t lo, int64_t hi, uint32_t thr, float scale, uint32_t s0,
                uint32_t s1),
               (x, out, lo, hi, thr, scale, s0, s1))

// out[r] = softmax(x[r] + bias[(r / rowsPerBias) * cols ...]) for rows [lo, hi).
REALM_INLINE void softmaxBiasRangeBody(const float* x, const float* bias, float* out, int64_t lo, int64_t hi,
                                       int64_t cols, int64_t rowsPerBias) {
  for (int64_t r = lo; r < hi; r++) {
    const float* xr = x + r * cols;
    const float* br = bias + (r / rowsPerBias) * cols;
    float* o = out + r * cols;
    for (int64_t j = 0; j < cols; j++) o[j] = xr[j] + br[j];
    const float inv = 1.0f / kmath::expShiftSum(o, kmath::softmaxShift(o, cols), o, cols);
    for (int64_t j = 0; j < cols; j++) o[j] *= inv;
  }
}
REALM_DISPATCH(softmaxBiasRange,
               (const float* x, const float* bias, float* out, int64_t lo, int64_t hi, int64_t cols,
                int64_t rowsPerBias),
               (x, bias, out, lo, hi, cols, rowsPerBias))

// out[c0:c1] = column sums of x[rows, cols] over columns [c0, c1) (float accumulation in blocks of 64 rows,
// double across blocks).
REALM_INLINE void colSumsRangeBody(const float* x, int64_t rows, int64_t cols, float* out, int64_t c0, int64_t c1) {
  constexpr int64_t CB = 256;
  for (int64_t cb = c0; cb < c1; cb += CB) {
    const int64_t ce = std::min(c1, cb + CB);
    double tot[CB];
    for (int64_t j = cb; j < ce; j++) tot[j - cb] = 0.0;
    for (int64_t r0 = 0; r0 < rows; r0 += 64) {
      const int64_t re = std::min(rows, r0 + 64);
      float acc[CB];
      for (int64_t j = cb; j < ce; j++) acc[j - cb] = 0.0f;
      for (int64_t r = r0; r < re; r++) {
        const float* xr = x + r * cols;
        for (int64_t j = cb; j < ce; j++) acc[j - cb] += xr[j];
      }
      for (int64_t j = cb; j < ce; j++) tot[j - cb] += acc[j - cb];
    }
    for (int64_t j = cb; j < ce; j++) out[j] = (float)tot[j - cb];
  }
}
REALM_DISPATCH(colSumsRange, (const float* x, int64_t rows, int64_t cols, float* out, int64_t c0, int64_t c1),
               (x, rows, cols, out, c0, c1))

REALM_INLINE void axpbyRangeBody(float alpha, const float* x, float beta, const float* y, float* out, int64_t lo,
                                 int64_t hi) {
  if (alpha == 1.0f && beta == 1.0f) {
    for (int64_t i = lo; i < hi; i++) out[i] = x[i] + y[i];
  } else if (beta == 0.0f) {
    for (int64_t i = lo; i < hi; i++) out[i] = alpha * x[i];
  } else {
    for (int64_t i = lo; i < hi; i++) out[i] = alpha * x[i] + beta * y[i];
  }
}
REALM_DISPATCH(axpbyRange, (float alpha, const float* x, float beta, const float* y, float* out, int64_t lo,
                            int64_t hi),
               (alpha, x, beta, y, out, lo, hi))

// x[r, :] += bias for rows [lo, hi).
REALM_INLINE void rowBiasRangeBody(float* x, const float* bias, int64_t lo, int64_t hi, int64_t cols) {
  for (int64_t r = lo; r < hi; r++) {
    float* xr = x + r * cols;
    for (int64_t j = 0; j < cols; j++) xr[j] += bias[j];
  }
}
REALM_DISPATCH(rowBiasRange, (float* x, const float* bias, int64_t lo, int64_t hi, int64_t cols),
               (x, bias, lo, hi, cols))

// Keep threshold: element i survives when dropHash(i) >= ceil(p * 2^32) (clamped to 2^32 - 1), as the js backend.
uint32_t dropThreshold(double p) {
  const double t = std::ceil(p * 4294967296.0);
  return t >= 4294967295.0 ? 4294967295u : (uint32_t)t;
}

}  // namespace

void dropoutApply(const float* x, float* out, int64_t n, double p, uint32_t s0, uint32_t s1) {
  const uint32_t thr = dropThreshold(p);
  const float scale = (float)(1.0 / (1.0 - p));
  forRange(n, [&](int64_t lo, int64_t hi) { dropoutRange(x, out, lo, hi, thr, scale, s0, s1); });
}

void softmaxRowsBias(const float* x, const float* bias, float* out, int64_t rows, int64_t cols,
                     int64_t rowsPerBias) {
  if (rows <= 0 || cols <= 0) return;
  auto fn = [&](int64_t lo, int64_t hi) { softmaxBiasRange(x, bias, out, lo, hi, cols, rowsPerBias); };
  if (rows * cols < (1 << 15) || rows == 1) fn(0, rows);
  else parallelFor(rows, std::max<int64_t>(1, (1 << 13) / cols), fn);
}

void colSums(const float* x, int64_t rows, int64_t cols, float* out) {
  if (cols <= 0) return;
  const int64_t threads = ThreadPool::instance().threads();
  const int64_t blocks = (cols + 15) / 16;
  if (rows * cols < (1 << 16) || threads <= 1 || blocks < 2) {
    colSumsRange(x, rows, cols, out, 0, cols);
    return;
  }
  const int64_t parts = std::min<int64_t>(threads, blocks);
  parallelFor(parts, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; p++) {
      const int64_t c0 = std::min(cols, blocks * p / parts * 16), c1 = std::min(cols, blocks * (p + 1) / parts * 16);
      colSumsRange(x, rows, cols, out, c0, c1);
    }
  });
}

void addRowBias(float* x, const float* bias, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  auto fn = [&](int64_t lo, int64_t hi) { rowBiasRange(x, bias, lo, hi, cols); };
  if (rows * cols < (1 << 16) || rows == 1) fn(0, rows);
  else parallelFor(rows, std::max<int64_t>(1, (1 << 14) / cols), fn);
}

void axpby(float alpha, const float* x, float beta, const float* y, float* out, int64_t n) {
  forRange(n, [&](int64_t lo, int64_t hi) { axpbyRange(alpha, x, beta, y, out, lo, hi); });
}

}  // namespace kernels

namespace {

// Seed argument: an integer in [0, 2^32).
bool seedArg(Args& a, size_t i, const char* name, uint32_t& out) {
  int64_t lo;
  double d;
  if (!a.number(i, name, d)) return false;
  if (!(d >= 0 && d <= 4294967295.0 && std::floor(d) == d))
    return a.rangeError(std::string(name) + " must be an integer in [0, 2^32)");
  lo = (int64_t)d;
  out = (uint32_t)lo;
  return true;
}

Napi::Value DropoutApply(const Napi::CallbackInfo& info) {
  Args a(info, "dropoutApply", 6);
  float *x, *out;
  int64_t nx, no, n;
  double p;
  uint32_t s0, s1;
  if (!(a.f32(0, "x", x, nx) && a.f32(1, "out", out, no) && a.dim(2, "n", n) && a.number(3, "p", p) &&
        seedArg(a, 4, "seed0", s0) && seedArg(a, 5, "seed1", s1) &&
        a.require(p >= 0 && p < 1, "p must be in [0, 1)") && a.atLeast("x", nx, n, "n") &&
        a.atLeast("out", no, n, "n")))
    return a.env().Undefined();
  kernels::dropoutApply(x, out, n, p, s0, s1);
  return a.env().Undefined();
}

Napi::Value SoftmaxRowsBias(const Napi::CallbackInfo& info) {
  Args a(info, "softmaxRowsBias", 6);
  float *x, *bias, *out;
  int64_t nx, nb, no, rows, cols, rpb;
  if (!(a.f32(0, "x", x, nx) && a.f32(1, "bias", bias, nb) && a.f32(2, "out", out, no) && a.dim(3, "rows", rows) &&
        a.dim(4, "cols", cols) && a.dim(5, "rowsPerBias", rpb) && a.require(rpb >= 1, "rowsPerBias must be >= 1") &&
        a.atLeast("x", nx, rows * cols, "rows * cols") && a.atLeast("out", no, rows * cols, "rows * cols") &&
        a.atLeast("bias", nb, (rows + rpb - 1) / rpb * cols, "ceil(rows / rowsPerBias) * cols")))
    return a.env().Undefined();
  kernels::softmaxRowsBias(x, bias, out, rows, cols, rpb);
  return a.env().Undefined();
}

Napi::Value ColSums(const Napi::CallbackInfo& info) {
  Args a(info, "colSums", 4);
  float *x, *out;
  int64_t nx, no, rows, cols;
  if (!(a.f32(0, "x", x, nx) && a.dim(1, "rows", rows) && a.dim(2, "cols", cols) && a.f32(3, "out", out, no) &&
        a.atLeast("x", nx, rows * cols, "rows * cols") && a.atLeast("out", no, cols, "cols")))
    return a.env().Undefined();
  kernels::colSums(x, rows, cols, out);
  return a.env().Undefined();
}

Napi::Value Axpby(const Napi::CallbackInfo& info) {
  Args a(info, "axpby", 6);
  float *x, *y, *out;
  int64_t nx, ny, no, n;
  double alpha, beta;
  if (!(a.number(0, "alpha", alpha) && a.f32(1, "x", x, nx) && a.number(2, "beta", beta) && a.f32(3, "y", y, ny) &&
        a.f32(4, "out", out, no) && a.dim(5, "n", n) && a.atLeast("x", nx, n, "n") && a.atLeast("y", ny, n, "n") &&
        a.atLeast("out", no, n, "n")))
    return a.env().Undefined();
  kernels::axpby((float)alpha, x, (float)beta, y, out, n);
  return a.env().Undefined();
}

Napi::Value AddRowBias(const Napi::CallbackInfo& info) {
  Args a(info, "addRowBias", 4);
  float *x, *bias;
  int64_t nx, nb, rows, cols;
  if (!(a.f32(0, "x", x, nx) && a.f32(1, "bias", bias, nb) && a.dim(2, "rows", rows) && a.dim(3, "cols", cols) &&
        a.atLeast("x", nx, rows * cols, "rows * cols") && a.atLeast("bias", nb, cols, "cols")))
    return a.env().Undefined();
  kernels::addRowBias(x, bias, rows, cols);
  return a.env().Undefined();
}

REALM_EXPORT("addRowBias", AddRowBias);
REALM_EXPORT("dropoutApply", DropoutApply);
REALM_EXPORT("softmaxRowsBias", SoftmaxRowsBias);
REALM_EXPORT("colSums", ColSums);
REALM_EXPORT("axpby", Axpby);

}  // namespace
}  // namespace realm
