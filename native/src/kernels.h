// Internal API of the non-GEMM kernels of src/engine/backend.ts (row-wise softmax family, LayerNorm, GELU,
// gather/scatter-add of rows, fused AdamW, row-wise top-k). Pointers are validated by the N-API layer
// (kernels_napi.cc); each function vectorises with runtime ISA dispatch and splits rows over the thread pool.
#pragma once
#include <cstdint>

namespace realm {
namespace kernels {

void softmaxRows(const float* x, float* out, int64_t rows, int64_t cols);
void logSoftmaxRows(const float* x, float* out, int64_t rows, int64_t cols);
// Softmax cross-entropy per row: loss[r] = logsumexp(x[r]) - x[r, targets[r]] (0 for ignoreIndex rows) and, when
// grad is not null, grad[r] = scale * (softmax(x[r]) - onehot(targets[r])) (0 for ignored rows). Targets validated.
void softmaxCrossEntropy(const float* x, const int32_t* targets, int64_t rows, int64_t cols, int32_t ignoreIndex,
                         float scale, float* grad, float* loss);
// dx = y * (dy - sum(dy * y)) per row; dx may alias dy.
void softmaxBackward(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols);

void layerNormForward(const float* x, const float* gamma, const float* beta, float* out, float* mean, float* rstd,
                      int64_t rows, int64_t cols, float eps);
// Writes dx; accumulates (+=) into dgamma and dbeta.
void layerNormBackward(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                       float* dx, float* dgamma, float* dbeta, int64_t rows, int64_t cols);

void gelu(const float* x, float* out, int64_t n, bool tanhApprox);
void geluBackward(const float* x, const float* dy, float* dx, int64_t n, bool tanhApprox);
// Epilogue of a dense layer on a rows x cols block (row strides ldc / ldo): c += bias (per column; bias may be null),
// then out = gelu(c) when act is 1 (erf form) or 2 (tanh form); act 0 leaves out untouched (may be null). One thread.
void biasActBlock(float* c, int64_t ldc, const float* bias, float* out, int64_t ldo, int64_t rows, int64_t cols,
                  int act);
// dx = dy * gelu'(x) over a rows x cols matrix and, when colSums is not null, colSums = column sums of dx (the bias
// gradient of the dense layer), in one pass; dx may alias dy.
void geluBackwardColSums(const float* x, const float* dy, float* dx, int64_t rows, int64_t cols, bool tanhApprox,
                         float* colSums);

// Indices must already be validated (0 <= idx[i] < table rows).
void gatherRows(const float* table, const int32_t* idx, int64_t n, float* out, int64_t cols);
void scatterAddRows(const float* grad, const int32_t* idx, int64_t n, float* tableGrad, int64_t cols);

void adamwStep(float* param, const float* grad, float* m, float* v, int64_t n, double lr, double beta1, double beta2,
               double eps, double weightDecay, double bc1, double bc2);

// Row-wise top-k, largest first, ties by lower index (NaN ranks below every number); 1 <= k <= cols.
void topk(const float* scores, int64_t rows, int64_t cols, int64_t k, int32_t* outIdx, float* outVal);

}  // namespace kernels
}  // namespace realm
