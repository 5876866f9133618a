// Row-wise kernels: softmax, log-softmax (max-subtracted, numerically stable), softmax backward, softmax
// cross-entropy (loss and gradient in one pass: the MLM loss over the vocabulary), LayerNorm forward (two-pass mean /
// biased variance) and backward (BERT's attention probabilities and every sub-layer norm).
// Rows are split over the thread pool when the tensor is large; each row is vectorised (AVX2 clone at run time).
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels.h"
#include "kernels_math.h"
#include "pool.h"

namespace realm {
namespace kernels {
namespace {

using kmath::laneSum;

// Runs fn(lo, hi) over row ranges, in parallel when rows * cols is large enough to pay for the dispatch.
template <class F>
void forRows(int64_t rows, int64_t cols, const F& fn) {
  if (rows <= 0) return;
  const int64_t work = rows * std::max<int64_t>(cols, 1);
  if (work < (1 << 15) || rows == 1) {
    fn(0, rows);
    return;
  }
  const int64_t grain = std::max<int64_t>(1, (1 << 13) / std::max<int64_t>(cols, 1));
  parallelFor(rows, grain, fn);
}

REALM_INLINE void softmaxRangeBody(const float* x, float* out, int64_t lo, int64_t hi, int64_t cols, bool logForm) {
  for (int64_t r = lo; r < hi; r++) {
    const float* xr = x + r * cols;
    float* o = out + r * cols;
    const float m = kmath::softmaxShift(xr, cols);
    if (logForm) {
      // (x - max) - log(sum): both parts are small, so large logits keep their precision.
      const float ls = std::log(kmath::expShiftSum(xr, m, nullptr, cols));
      for (int64_t j = 0; j < cols; j++) o[j] = (xr[j] - m) - ls;
    } else {
      const float inv = 1.0f / kmath::expShiftSum(xr, m, o, cols);
      for (int64_t j = 0; j < cols; j++) o[j] *= inv;
    }
  }
}
REALM_DISPATCH(softmaxRange, (const float* x, float* out, int64_t lo, int64_t hi, int64_t cols, bool logForm),
               (x, out, lo, hi, cols, logForm))

// Rows [lo, hi): loss[r] = logsumexp(x[r]) - x[r, t] for t = targets[r] (0 when t == ignoreIndex); when grad is not
// null, grad[r] = scale * (softmax(x[r]) - onehot(t)) (zeros for an ignored row). Targets are already validated.
REALM_INLINE void softmaxXentRangeBody(const float* x, const int32_t* targets, int64_t lo, int64_t hi, int64_t cols,
                                      int32_t ignoreIndex, float scale, float* grad, float* loss) {
  for (int64_t r = lo; r < hi; r++) {
    const float* xr = x + r * cols;
    const int32_t t = targets[r];
    float* g = grad ? grad + r * cols : nullptr;
    if (t == ignoreIndex) {
      loss[r] = 0.0f;
      if (g)
        for (int64_t j = 0; j < cols; j++) g[j] = 0.0f;
      continue;
    }
    const float m = kmath::softmaxShift(xr, cols);
    const float sum = kmath::expShiftSum(xr, m, g, cols);
    loss[r] = std::log(sum) - (xr[t] - m);
    if (g) {
      const float k = scale / sum;
      for (int64_t j = 0; j < cols; j++) g[j] *= k;
      g[t] -= scale;
    }
  }
}
REALM_DISPATCH(softmaxXentRange,
               (const float* x, const int32_t* targets, int64_t lo, int64_t hi, int64_t cols, int32_t ignoreIndex,
                float scale, float* grad, float* loss),
               (x, targets, lo, hi, cols, ignoreIndex, scale, grad, loss))

REALM_INLINE void softmaxBackwardRangeBody(const float* y, const float* dy, float* dx, int64_t lo, int64_t hi,
                                      int64_t cols) {
  for (int64_t r = lo; r < hi; r++) {
    const float* yr = y + r * cols;
    const float* g = dy + r * cols;
    float* o = dx + r * cols;
    float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t j = 0;
    for (; j + 8 <= cols; j += 8)
      for (int l = 0; l < 8; l++) s[l] += yr[j + l] * g[j + l];
    for (; j < cols; j++) s[0] += yr[j] * g[j];
    const float dot = laneSum(s);
    for (j = 0; j < cols; j++) o[j] = yr[j] * (g[j] - dot);
  }
}
REALM_DISPATCH(softmaxBackwardRange,
               (const float* y, const float* dy, float* dx, int64_t lo, int64_t hi, int64_t cols),
               (y, dy, dx, lo, hi, cols))

REALM_INLINE void layerNormForwardRangeBody(const float* x, const float* gamma, const float* beta, float* out, float* mean,
                                       float* rstd, int64_t lo, int64_t hi, int64_t cols, float eps) {
  for (int64_t r = lo; r < hi; r++) {
    const float* xr = x + r * cols;
    float* o = out + r * cols;
    // Mean accumulated in double; then x - mean = (x - muHi) - muLo with muHi = float(mean), so rows with a
    // large offset (|mean| >> std) keep their centred values accurate.
    double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t j = 0;
    for (; j + 8 <= cols; j += 8)
      for (int l = 0; l < 8; l++) s[l] += (double)xr[j + l];
    for (; j < cols; j++) s[0] += (double)xr[j];
    const double muD = (((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]))) / (double)cols;
    const float mu = (float)muD, muLo = (float)(muD - (double)mu);
    float q[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (j = 0; j + 8 <= cols; j += 8)
      for (int l = 0; l < 8; l++) {
        const float d = (xr[j + l] - mu) - muLo;
        q[l] += d * d;
      }
    for (; j < cols; j++) {
      const float d = (xr[j] - mu) - muLo;
      q[0] += d * d;
    }
    const float var = (float)((double)laneSum(q) / (double)cols);
    const float rs = 1.0f / std::sqrt(var + eps);
    for (j = 0; j < cols; j++) o[j] = ((xr[j] - mu) - muLo) * rs * gamma[j] + beta[j];
    mean[r] = mu;
    rstd[r] = rs;
  }
}
REALM_DISPATCH(layerNormForwardRange,
               (const float* x, const float* gamma, const float* beta, float* out, float* mean, float* rstd,
                int64_t lo, int64_t hi, int64_t cols, float eps),
               (x, gamma, beta, out, mean, rstd, lo, hi, cols, eps))

// dx for rows [lo, hi); accumulates this range's dgamma / dbeta contributions into dg / db (cols each).
REALM_INLINE void layerNormBackwardRangeBody(const float* dy, const float* x, const float* gamma, const float* mean,
                                        const float* rstd, float* dx, float* dg, float* db, int64_t lo, int64_t hi,
                                        int64_t cols) {
  const float invN = 1.0f / (float)cols;
  for (int64_t r = lo; r < hi; r++) {
    const float* g = dy + r * cols;
    const float* xr = x + r * cols;
    float* o = dx + r * cols;
    const float mu = mean[r], rs = rstd[r];
    float s1[8] = {0, 0, 0, 0, 0, 0, 0, 0}, s2[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t j = 0;
    for (; j + 8 <= cols; j += 8)
      for (int l = 0; l < 8; l++) {
        const float xh = (xr[j + l] - mu) * rs;
        const float gg = g[j + l] * gamma[j + l];
        s1[l] += gg;
        s2[l] += gg * xh;
      }
    for (; j < cols; j++) {
      const float xh = (xr[j] - mu) * rs;
      const float gg = g[j] * gamma[j];
      s1[0] += gg;
      s2[0] += gg * xh;
    }
    const float m1 = laneSum(s1) * invN, m2 = laneSum(s2) * invN;
    // Two simple loops instead of one with five output/input streams, so each vectorises (with one loop GCC gave
    // up on the alias checks and ran it scalar). dgamma/dbeta first: dx may alias dy.
    for (j = 0; j < cols; j++) {
      const float gj = g[j];
      dg[j] += gj * ((xr[j] - mu) * rs);
      db[j] += gj;
    }
    for (j = 0; j < cols; j++) o[j] = rs * (g[j] * gamma[j] - m1 - ((xr[j] - mu) * rs) * m2);
  }
}
REALM_DISPATCH(layerNormBackwardRange,
               (const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd, float* dx,
                float* dg, float* db, int64_t lo, int64_t hi, int64_t cols),
               (dy, x, gamma, mean, rstd, dx, dg, db, lo, hi, cols))

}  // namespace

void softmaxRows(const float* x, float* out, int64_t rows, int64_t cols) {
  forRows(rows, cols, [&](int64_t lo, int64_t hi) { softmaxRange(x, out, lo, hi, cols, false); });
}

void logSoftmaxRows(const float* x, float* out, int64_t rows, int64_t cols) {
  forRows(rows, cols, [&](int64_t lo, int64_t hi) { softmaxRange(x, out, lo, hi, cols, true); });
}

void softmaxCrossEntropy(const float* x, const int32_t* targets, int64_t rows, int64_t cols, int32_t ignoreIndex,
                         float scale, float* grad, float* loss) {
  forRows(rows, cols, [&](int64_t lo, int64_t hi) {
    softmaxXentRange(x, targets, lo, hi, cols, ignoreIndex, scale, grad, loss);
  });
}

void softmaxBackward(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols) {
  forRows(rows, cols, [&](int64_t lo, int64_t hi) { softmaxBackwardRange(y, dy, dx, lo, hi, cols); });
}

void layerNormForward(const float* x, const float* gamma, const float* beta, float* out, float* mean, float* rstd,
                      int64_t rows, int64_t cols, float eps) {
  forRows(rows, cols, [&](int64_t lo, int64_t hi) {
    layerNormForwardRange(x, gamma, beta, out, mean, rstd, lo, hi, cols, eps);
  });
}

void layerNormBackward(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                       float* dx, float* dgamma, float* dbeta, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  // Fixed partition into `parts` row ranges with private dgamma/dbeta partials, summed in order afterwards
  // (deterministic for a given thread count).
  const int64_t threads = ThreadPool::instance().threads();
  const int64_t parts = rows * cols < (1 << 15) ? 1 : std::min<int64_t>(threads, rows);
  if (parts <= 1) {
    layerNormBackwardRange(dy, x, gamma, mean, rstd, dx, dgamma, dbeta, 0, rows, cols);
    return;
  }
  std::vector<float> partial((size_t)(parts * 2 * cols), 0.0f);
  parallelFor(parts, 1, [&](int64_t plo, int64_t phi) {
    for (int64_t p = plo; p < phi; p++) {
      float* dg = partial.data() + p * 2 * cols;
      layerNormBackwardRange(dy, x, gamma, mean, rstd, dx, dg, dg + cols, rows * p / parts, rows * (p + 1) / parts,
                             cols);
    }
  });
  for (int64_t p = 0; p < parts; p++) {
    const float* dg = partial.data() + p * 2 * cols;
    for (int64_t j = 0; j < cols; j++) {
      dgamma[j] += dg[j];
      dbeta[j] += dg[cols + j];
    }
  }
}

}  // namespace kernels
}  // namespace realm
