// Element-wise and row-indexing kernels: GELU (erf form and the tanh approximation "gelu_new") forward/backward,
// fused AdamW (decoupled weight decay, as torch.optim.AdamW), gather rows (embedding lookup) and scatter-add rows
// (embedding gradient; repeated indices accumulate, parallel over column ranges so no two threads share a cell).
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels.h"
#include "kernels_math.h"
#include "kernels_simd.h"
#include "pool.h"

namespace realm {
namespace kernels {
namespace {

using kmath::kGeluC;
using kmath::kInvSqrt2Pi;
using kmath::kSqrt2OverPi;

REALM_INLINE void geluRangeBody(const float* x, float* out, int64_t lo, int64_t hi, bool tanhApprox) {
  if (tanhApprox) {
    // 0.5 x (1 + tanh(u)) = x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3)
    for (int64_t i = lo; i < hi; i++) out[i] = x[i] * kmath::tanhGate(x[i]);
  } else {
    for (int64_t i = lo; i < hi; i++) {
      const float v = x[i];
      out[i] = v * kmath::normCdf(v);
    }
  }
}
#if REALM_X86
REALM_TARGET_AVX2 static void geluRangeAvx2(const float* x, float* out, int64_t lo, int64_t hi, bool tanhApprox) {
  geluRangeBody(x, out, simd::geluSpan(x, out, lo, hi, tanhApprox), hi, tanhApprox);
}
#endif
REALM_DISPATCH_SIMD(geluRange, (const float* x, float* out, int64_t lo, int64_t hi, bool tanhApprox),
                    (x, out, lo, hi, tanhApprox))

REALM_INLINE void geluBackwardRangeBody(const float* x, const float* dy, float* dx, int64_t lo, int64_t hi,
                                        bool tanhApprox) {
  if (tanhApprox) {
    // d/dx [x s(2u)] = s + 2 x s (1 - s) u',  u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2)
    for (int64_t i = lo; i < hi; i++) {
      const float v = kmath::clampGelu(x[i]);
      const float s = kmath::tanhGate(v);
      const float du = kSqrt2OverPi * (1.0f + 3.0f * kGeluC * v * v);
      dx[i] = dy[i] * (s + 2.0f * v * s * (1.0f - s) * du);
    }
  } else {
    // d/dx [x Phi(x)] = Phi(x) + x phi(x)
    for (int64_t i = lo; i < hi; i++) {
      const float v = x[i];
      const float pdf = kInvSqrt2Pi * kmath::expf(-0.5f * v * v);
      dx[i] = dy[i] * (kmath::normCdf(v) + v * pdf);
    }
  }
}
#if REALM_X86
REALM_TARGET_AVX2 static void geluBackwardRangeAvx2(const float* x, const float* dy, float* dx, int64_t lo, int64_t hi,
                                                    bool tanhApprox) {
  geluBackwardRangeBody(x, dy, dx, simd::geluBackwardSpan(x, dy, dx, lo, hi, tanhApprox), hi, tanhApprox);
}
#endif
REALM_DISPATCH_SIMD(geluBackwardRange,
                    (const float* x, const float* dy, float* dx, int64_t lo, int64_t hi, bool tanhApprox),
                    (x, dy, dx, lo, hi, tanhApprox))

// Bias and GELU over a rows x cols block of C (the GEMM epilogue); geluRow is geluRange's Avx2 or Base clone.
template <void (*geluRow)(const float*, float*, int64_t, int64_t, bool)>
REALM_INLINE void biasActBlockRows(float* c, int64_t ldc, const float* bias, float* out, int64_t ldo, int64_t rows,
                                   int64_t cols, int act) {
  for (int64_t r = 0; r < rows; r++) {
    float* cr = c + r * ldc;
    if (bias)
      for (int64_t j = 0; j < cols; j++) cr[j] += bias[j];
    if (act != 0) geluRow(cr, out + r * ldo, 0, cols, act == 2);
  }
}
#define REALM_BIAS_ACT_PARAMS \
  (float* c, int64_t ldc, const float* bias, float* out, int64_t ldo, int64_t rows, int64_t cols, int act)
#if REALM_X86
REALM_TARGET_AVX2 static void biasActBlockRangeAvx2 REALM_BIAS_ACT_PARAMS {
  biasActBlockRows<geluRangeAvx2>(c, ldc, bias, out, ldo, rows, cols, act);
}
#endif
static void biasActBlockRangeBody REALM_BIAS_ACT_PARAMS {
  biasActBlockRows<geluRangeBase>(c, ldc, bias, out, ldo, rows, cols, act);
}
REALM_DISPATCH_SIMD(biasActBlockRange, REALM_BIAS_ACT_PARAMS, (c, ldc, bias, out, ldo, rows, cols, act))
#undef REALM_BIAS_ACT_PARAMS

// Rows [lo, hi): dx = dy * gelu'(x) row by row (contiguous streams) and, when sums is not null, sums[j] = the column
// sums of those dx rows (float within blocks of 64 rows, double across blocks, as colSums).
template <void (*geluBackwardRow)(const float*, const float*, float*, int64_t, int64_t, bool)>
REALM_INLINE void geluBackwardRows(const float* x, const float* dy, float* dx, int64_t lo, int64_t hi, int64_t cols,
                                   bool tanhApprox, double* sums, float* acc) {
  if (sums)
    for (int64_t j = 0; j < cols; j++) sums[j] = 0.0;
  for (int64_t r0 = lo; r0 < hi; r0 += 64) {
    const int64_t re = std::min(hi, r0 + 64);
    if (sums)
      for (int64_t j = 0; j < cols; j++) acc[j] = 0.0f;
    for (int64_t r = r0; r < re; r++) {
      const int64_t o = r * cols;
      geluBackwardRow(x + o, dy + o, dx + o, 0, cols, tanhApprox);
      if (sums)
        for (int64_t j = 0; j < cols; j++) acc[j] += dx[o + j];
    }
    if (sums)
      for (int64_t j = 0; j < cols; j++) sums[j] += acc[j];
  }
}
#define REALM_GELU_ROWS_PARAMS \
  (const float* x, const float* dy, float* dx, int64_t lo, int64_t hi, int64_t cols, bool tanhApprox, double* sums, \
   float* acc)
#if REALM_X86
REALM_TARGET_AVX2 static void geluBackwardRowsRangeAvx2 REALM_GELU_ROWS_PARAMS {
  geluBackwardRows<geluBackwardRangeAvx2>(x, dy, dx, lo, hi, cols, tanhApprox, sums, acc);
}
#endif
static void geluBackwardRowsRangeBody REALM_GELU_ROWS_PARAMS {
  geluBackwardRows<geluBackwardRangeBase>(x, dy, dx, lo, hi, cols, tanhApprox, sums, acc);
}
REALM_DISPATCH_SIMD(geluBackwardRowsRange, REALM_GELU_ROWS_PARAMS, (x, dy, dx, lo, hi, cols, tanhApprox, sums, acc))
#undef REALM_GELU_ROWS_PARAMS

struct AdamConst {
  float lrwd, b1, omb1, b2, omb2, invBc1, invBc2, lr, eps;
};

REALM_INLINE void adamwRangeBody(float* p, const float* g, float* m, float* v, int64_t lo, int64_t hi,
                                 const AdamConst& c) {
  for (int64_t i = lo; i < hi; i++) {
    const float gi = g[i];
    float pi = p[i] - c.lrwd * p[i];
    const float mi = c.b1 * m[i] + c.omb1 * gi;
    const float vi = c.b2 * v[i] + c.omb2 * gi * gi;
    pi -= c.lr * (mi * c.invBc1) / (std::sqrt(vi * c.invBc2) + c.eps);
    m[i] = mi;
    v[i] = vi;
    p[i] = pi;
  }
}
REALM_DISPATCH(adamwRange, (float* p, const float* g, float* m, float* v, int64_t lo, int64_t hi, const AdamConst& c),
               (p, g, m, v, lo, hi, c))

REALM_INLINE void scatterRangeBody(const float* __restrict grad, const int32_t* idx, int64_t n,
                                   float* __restrict tableGrad, int64_t cols,
                                   int64_t c0, int64_t c1) {
  for (int64_t i = 0; i < n; i++) {
    const float* __restrict g = grad + i * cols;
    float* __restrict t = tableGrad + (int64_t)idx[i] * cols;
    for (int64_t j = c0; j < c1; j++) t[j] += g[j];
  }
}
REALM_DISPATCH(scatterRange,
               (const float* grad, const int32_t* idx, int64_t n, float* tableGrad, int64_t cols, int64_t c0,
                int64_t c1),
               (grad, idx, n, tableGrad, cols, c0, c1))

}  // namespace

void gelu(const float* x, float* out, int64_t n, bool tanhApprox) {
  forRange(n, [&](int64_t lo, int64_t hi) { geluRange(x, out, lo, hi, tanhApprox); });
}

void geluBackward(const float* x, const float* dy, float* dx, int64_t n, bool tanhApprox) {
  forRange(n, [&](int64_t lo, int64_t hi) { geluBackwardRange(x, dy, dx, lo, hi, tanhApprox); });
}

void biasActBlock(float* c, int64_t ldc, const float* bias, float* out, int64_t ldo, int64_t rows, int64_t cols,
                  int act) {
  if (rows > 0 && cols > 0) biasActBlockRange(c, ldc, bias, out, ldo, rows, cols, act);
}

void geluBackwardColSums(const float* x, const float* dy, float* dx, int64_t rows, int64_t cols, bool tanhApprox,
                         float* colSums) {
  if (rows <= 0 || cols <= 0) {
    if (colSums)
      for (int64_t j = 0; j < cols; j++) colSums[j] = 0.0f;
    return;
  }
  // Chunks of a fixed 128 rows (handed out dynamically; each chunk's partial sums go to its own slot, added in chunk
  // order, so the result does not depend on the thread count or on which thread ran a chunk).
  constexpr int64_t step = 128;
  const int64_t chunks = (rows + step - 1) / step;
  std::vector<double> partial(colSums ? chunks * cols : 0);
  std::vector<float> accs(colSums ? chunks * cols : 0);
  auto run = [&](int64_t c) {
    const int64_t lo = c * step, hi = std::min(rows, lo + step);
    geluBackwardRowsRange(x, dy, dx, lo, hi, cols, tanhApprox, colSums ? partial.data() + c * cols : nullptr,
                          colSums ? accs.data() + c * cols : nullptr);
  };
  if (chunks == 1 || rows * cols < (1 << 16)) for (int64_t c = 0; c < chunks; c++) run(c);
  else parallelFor(chunks, 1, [&](int64_t lo, int64_t hi) { for (int64_t c = lo; c < hi; c++) run(c); });
  if (colSums)
    for (int64_t j = 0; j < cols; j++) {
      double t = 0.0;
      for (int64_t c = 0; c < chunks; c++) t += partial[c * cols + j];
      colSums[j] = (float)t;
    }
}

void adamwStep(float* param, const float* grad, float* m, float* v, int64_t n, double lr, double beta1, double beta2,
               double eps, double weightDecay, double bc1, double bc2) {
  const AdamConst c{(float)(lr * weightDecay), (float)beta1, (float)(1.0 - beta1), (float)beta2, (float)(1.0 - beta2),
                    (float)(1.0 / bc1),        (float)(1.0 / bc2), (float)lr,       (float)eps};
  forRange(n, [&](int64_t lo, int64_t hi) { adamwRange(param, grad, m, v, lo, hi, c); });
}

void gatherRows(const float* table, const int32_t* idx, int64_t n, float* out, int64_t cols) {
  if (n <= 0 || cols <= 0) return;
  auto body = [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; i++)
      std::memcpy(out + i * cols, table + (int64_t)idx[i] * cols, (size_t)cols * sizeof(float));
  };
  if (n * cols < (1 << 17)) body(0, n);
  else parallelFor(n, std::max<int64_t>(1, (1 << 14) / cols), body);
}

void scatterAddRows(const float* grad, const int32_t* idx, int64_t n, float* tableGrad, int64_t cols) {
  if (n <= 0 || cols <= 0) return;
  const int64_t threads = ThreadPool::instance().threads();
  if (n * cols < (1 << 16) || cols < 64 || threads <= 1) {
    scatterRange(grad, idx, n, tableGrad, cols, 0, cols);
    return;
  }
  // Column ranges (multiples of 16 floats, one cache line) per thread: repeated rows never race.
  const int64_t blocks = (cols + 15) / 16, parts = std::min<int64_t>(threads, blocks);
  parallelFor(parts, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; p++) {
      const int64_t c0 = std::min(cols, blocks * p / parts * 16), c1 = std::min(cols, blocks * (p + 1) / parts * 16);
      scatterRange(grad, idx, n, tableGrad, cols, c0, c1);
    }
  });
}

}  // namespace kernels
}  // namespace realm
