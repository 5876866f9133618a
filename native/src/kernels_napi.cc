// N-API bindings of the non-GEMM kernels of src/engine/backend.ts. Every argument is checked (typed-array kind,
// lengths against the given dims, index ranges, k range) and a bad one throws a TypeError/RangeError naming the
// function and argument; arrays are used in place (zero copy).
#include <cmath>
#include <string>

#include "kernels.h"
#include "kernels_args.h"
#include "registry.h"

namespace realm {
namespace {

using std::to_string;

// Every idx[i] must lie in [0, rows); otherwise a RangeError naming the first bad position.
bool checkIndices(Args& a, const int32_t* idx, int64_t n, int64_t rows, const char* tableName) {
  for (int64_t i = 0; i < n; i++) {
    if (idx[i] < 0 || idx[i] >= rows)
      return a.rangeError("idx[" + to_string(i) + "] = " + to_string(idx[i]) + " is out of range for " + tableName +
                          " with " + to_string(rows) + " rows");
  }
  return true;
}

// Shared shape of softmaxRows / logSoftmaxRows.
template <void (*Fn)(const float*, float*, int64_t, int64_t)>
Napi::Value RowsUnary(const Napi::CallbackInfo& info, const char* name) {
  Args a(info, name, 4);
  float *x, *out;
  int64_t nx, no, rows, cols;
  if (!(a.f32(0, "x", x, nx) && a.f32(1, "out", out, no) && a.dim(2, "rows", rows) && a.dim(3, "cols", cols) &&
        a.atLeast("x", nx, rows * cols, "rows * cols") && a.atLeast("out", no, rows * cols, "rows * cols")))
    return a.env().Undefined();
  Fn(x, out, rows, cols);
  return a.env().Undefined();
}

Napi::Value SoftmaxRows(const Napi::CallbackInfo& info) {
  return RowsUnary<kernels::softmaxRows>(info, "softmaxRows");
}
Napi::Value LogSoftmaxRows(const Napi::CallbackInfo& info) {
  return RowsUnary<kernels::logSoftmaxRows>(info, "logSoftmaxRows");
}

Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  Args a(info, "softmaxBackward", 5);
  float *y, *dy, *dx;
  int64_t ny, ndy, ndx, rows, cols;
  if (!(a.f32(0, "y", y, ny) && a.f32(1, "dy", dy, ndy) && a.f32(2, "dx", dx, ndx) && a.dim(3, "rows", rows) &&
        a.dim(4, "cols", cols)))
    return a.env().Undefined();
  const int64_t n = rows * cols;
  if (!(a.atLeast("y", ny, n, "rows * cols") && a.atLeast("dy", ndy, n, "rows * cols") &&
        a.atLeast("dx", ndx, n, "rows * cols")))
    return a.env().Undefined();
  kernels::softmaxBackward(y, dy, dx, rows, cols);
  return a.env().Undefined();
}

Napi::Value LayerNormForward(const Napi::CallbackInfo& info) {
  Args a(info, "layerNormForward", 9);
  float *x, *gamma, *beta, *out, *mean, *rstd;
  int64_t nx, ng, nb, no, nm, nr, rows, cols;
  double eps;
  if (!(a.f32(0, "x", x, nx) && a.f32(1, "gamma", gamma, ng) && a.f32(2, "beta", beta, nb) &&
        a.f32(3, "out", out, no) && a.f32(4, "mean", mean, nm) && a.f32(5, "rstd", rstd, nr) &&
        a.dim(6, "rows", rows) && a.dim(7, "cols", cols) && a.number(8, "eps", eps)))
    return a.env().Undefined();
  const int64_t n = rows * cols;
  if (!(a.require(eps >= 0, "eps must be >= 0") && a.atLeast("x", nx, n, "rows * cols") &&
        a.atLeast("gamma", ng, cols, "cols") && a.atLeast("beta", nb, cols, "cols") &&
        a.atLeast("out", no, n, "rows * cols") && a.atLeast("mean", nm, rows, "rows") &&
        a.atLeast("rstd", nr, rows, "rows")))
    return a.env().Undefined();
  if (cols > 0) kernels::layerNormForward(x, gamma, beta, out, mean, rstd, rows, cols, (float)eps);
  return a.env().Undefined();
}

Napi::Value LayerNormBackward(const Napi::CallbackInfo& info) {
  Args a(info, "layerNormBackward", 10);
  float *dy, *x, *gamma, *mean, *rstd, *dx, *dgamma, *dbeta;
  int64_t ndy, nx, ng, nm, nr, ndx, ndg, ndb, rows, cols;
  if (!(a.f32(0, "dy", dy, ndy) && a.f32(1, "x", x, nx) && a.f32(2, "gamma", gamma, ng) &&
        a.f32(3, "mean", mean, nm) && a.f32(4, "rstd", rstd, nr) && a.f32(5, "dx", dx, ndx) &&
        a.f32(6, "dgamma", dgamma, ndg) && a.f32(7, "dbeta", dbeta, ndb) && a.dim(8, "rows", rows) &&
        a.dim(9, "cols", cols)))
    return a.env().Undefined();
  const int64_t n = rows * cols;
  if (!(a.atLeast("dy", ndy, n, "rows * cols") && a.atLeast("x", nx, n, "rows * cols") &&
        a.atLeast("gamma", ng, cols, "cols") && a.atLeast("mean", nm, rows, "rows") &&
        a.atLeast("rstd", nr, rows, "rows") && a.atLeast("dx", ndx, n, "rows * cols") &&
        a.atLeast("dgamma", ndg, cols, "cols") && a.atLeast("dbeta", ndb, cols, "cols")))
    return a.env().Undefined();
  kernels::layerNormBackward(dy, x, gamma, mean, rstd, dx, dgamma, dbeta, rows, cols);
  return a.env().Undefined();
}

Napi::Value Gelu(const Napi::CallbackInfo& info) {
  Args a(info, "gelu", 4);
  float *x, *out;
  int64_t nx, no, n;
  bool tanhApprox;
  if (!(a.f32(0, "x", x, nx) && a.f32(1, "out", out, no) && a.dim(2, "n", n) && a.flag(3, "tanhApprox", tanhApprox) &&
        a.atLeast("x", nx, n, "n") && a.atLeast("out", no, n, "n")))
    return a.env().Undefined();
  kernels::gelu(x, out, n, tanhApprox);
  return a.env().Undefined();
}

Napi::Value GeluBackward(const Napi::CallbackInfo& info) {
  Args a(info, "geluBackward", 5);
  float *x, *dy, *dx;
  int64_t nx, ndy, ndx, n;
  bool tanhApprox;
  if (!(a.f32(0, "x", x, nx) && a.f32(1, "dy", dy, ndy) && a.f32(2, "dx", dx, ndx) && a.dim(3, "n", n) &&
        a.flag(4, "tanhApprox", tanhApprox) && a.atLeast("x", nx, n, "n") && a.atLeast("dy", ndy, n, "n") &&
        a.atLeast("dx", ndx, n, "n")))
    return a.env().Undefined();
  kernels::geluBackward(x, dy, dx, n, tanhApprox);
  return a.env().Undefined();
}

Napi::Value GeluBackwardColSums(const Napi::CallbackInfo& info) {
  Args a(info, "geluBackwardColSums", 7);
  float *x, *dy, *dx, *sums;
  int64_t nx, ndy, ndx, ns, rows, cols;
  bool tanhApprox;
  if (!(a.f32(0, "x", x, nx) && a.f32(1, "dy", dy, ndy) && a.f32(2, "dx", dx, ndx) && a.dim(3, "rows", rows) &&
        a.dim(4, "cols", cols) && a.flag(5, "tanhApprox", tanhApprox) && a.f32OrNull(6, "colSums", sums, ns) &&
        a.atLeast("x", nx, rows * cols, "rows * cols") && a.atLeast("dy", ndy, rows * cols, "rows * cols") &&
        a.atLeast("dx", ndx, rows * cols, "rows * cols") && (sums == nullptr || a.atLeast("colSums", ns, cols, "cols"))))
    return a.env().Undefined();
  kernels::geluBackwardColSums(x, dy, dx, rows, cols, tanhApprox, sums);
  return a.env().Undefined();
}

Napi::Value SoftmaxCrossEntropy(const Napi::CallbackInfo& info) {
  Args a(info, "softmaxCrossEntropy", 8);
  float *x, *grad, *loss;
  int32_t* targets;
  int64_t nx, nt, ng, nl, rows, cols;
  double ignore, scale;
  if (!(a.f32(0, "logits", x, nx) && a.i32(1, "targets", targets, nt) && a.dim(2, "rows", rows) &&
        a.dim(3, "cols", cols) && a.number(4, "ignoreIndex", ignore) && a.number(5, "scale", scale) &&
        a.f32OrNull(6, "grad", grad, ng) && a.f32(7, "loss", loss, nl) &&
        a.require(ignore == std::floor(ignore) && ignore >= -2147483648.0 && ignore <= 2147483647.0,
                  "ignoreIndex must be a 32-bit integer") &&
        a.require(cols >= 1 || rows == 0, "cols must be >= 1") && a.atLeast("logits", nx, rows * cols, "rows * cols") &&
        a.atLeast("targets", nt, rows, "rows") && (grad == nullptr || a.atLeast("grad", ng, rows * cols, "rows * cols")) &&
        a.atLeast("loss", nl, rows, "rows")))
    return a.env().Undefined();
  const int32_t ig = (int32_t)ignore;
  for (int64_t r = 0; r < rows; r++) {
    const int32_t t = targets[r];
    if (t != ig && (t < 0 || t >= cols)) {
      a.rangeError("target " + std::to_string(t) + " at row " + std::to_string(r) + " out of range [0, " +
                   std::to_string(cols) + ")");
      return a.env().Undefined();
    }
  }
  kernels::softmaxCrossEntropy(x, targets, rows, cols, ig, (float)scale, grad, loss);
  return a.env().Undefined();
}

Napi::Value GatherRows(const Napi::CallbackInfo& info) {
  Args a(info, "gatherRows", 4);
  float *table, *out;
  int32_t* idx;
  int64_t nt, ni, no, cols;
  if (!(a.f32(0, "table", table, nt) && a.i32(1, "idx", idx, ni) && a.f32(2, "out", out, no) &&
        a.dim(3, "cols", cols)))
    return a.env().Undefined();
  if (cols == 0) return a.env().Undefined();
  if (!(a.atLeast("out", no, ni * cols, "idx.length * cols") && checkIndices(a, idx, ni, nt / cols, "table")))
    return a.env().Undefined();
  kernels::gatherRows(table, idx, ni, out, cols);
  return a.env().Undefined();
}

Napi::Value ScatterAddRows(const Napi::CallbackInfo& info) {
  Args a(info, "scatterAddRows", 4);
  float *grad, *tableGrad;
  int32_t* idx;
  int64_t ng, ni, nt, cols;
  if (!(a.f32(0, "grad", grad, ng) && a.i32(1, "idx", idx, ni) && a.f32(2, "tableGrad", tableGrad, nt) &&
        a.dim(3, "cols", cols)))
    return a.env().Undefined();
  if (cols == 0) return a.env().Undefined();
  if (!(a.atLeast("grad", ng, ni * cols, "idx.length * cols") && checkIndices(a, idx, ni, nt / cols, "tableGrad")))
    return a.env().Undefined();
  kernels::scatterAddRows(grad, idx, ni, tableGrad, cols);
  return a.env().Undefined();
}

Napi::Value AdamwStep(const Napi::CallbackInfo& info) {
  Args a(info, "adamwStep", 11);
  float *p, *g, *m, *v;
  int64_t np, ng, nm, nv;
  double lr, b1, b2, eps, wd, bc1, bc2;
  if (!(a.f32(0, "param", p, np) && a.f32(1, "grad", g, ng) && a.f32(2, "m", m, nm) && a.f32(3, "v", v, nv) &&
        a.number(4, "lr", lr) && a.number(5, "beta1", b1) && a.number(6, "beta2", b2) && a.number(7, "eps", eps) &&
        a.number(8, "weightDecay", wd) && a.number(9, "bc1", bc1) && a.number(10, "bc2", bc2)))
    return a.env().Undefined();
  if (!(a.atLeast("grad", ng, np, "param.length") && a.atLeast("m", nm, np, "param.length") &&
        a.atLeast("v", nv, np, "param.length") && a.require(bc1 > 0 && bc2 > 0, "bc1 and bc2 must be > 0")))
    return a.env().Undefined();
  kernels::adamwStep(p, g, m, v, np, lr, b1, b2, eps, wd, bc1, bc2);
  return a.env().Undefined();
}

Napi::Value Topk(const Napi::CallbackInfo& info) {
  Args a(info, "topk", 6);
  float *scores, *outVal;
  int32_t* outIdx;
  int64_t ns, rows, cols, k, ni, nv;
  if (!(a.f32(0, "scores", scores, ns) && a.dim(1, "rows", rows) && a.dim(2, "cols", cols) && a.dim(3, "k", k) &&
        a.i32(4, "outIdx", outIdx, ni) && a.f32(5, "outVal", outVal, nv)))
    return a.env().Undefined();
  if (!(a.require(k >= 1 && k <= cols, "k = " + to_string(k) + " must satisfy 1 <= k <= cols = " + to_string(cols)) &&
        a.atLeast("scores", ns, rows * cols, "rows * cols") && a.atLeast("outIdx", ni, rows * k, "rows * k") &&
        a.atLeast("outVal", nv, rows * k, "rows * k")))
    return a.env().Undefined();
  kernels::topk(scores, rows, cols, k, outIdx, outVal);
  return a.env().Undefined();
}

REALM_EXPORT("softmaxRows", SoftmaxRows);
REALM_EXPORT("logSoftmaxRows", LogSoftmaxRows);
REALM_EXPORT("softmaxBackward", SoftmaxBackward);
REALM_EXPORT("layerNormForward", LayerNormForward);
REALM_EXPORT("layerNormBackward", LayerNormBackward);
REALM_EXPORT("gelu", Gelu);
REALM_EXPORT("geluBackward", GeluBackward);
REALM_EXPORT("geluBackwardColSums", GeluBackwardColSums);
REALM_EXPORT("softmaxCrossEntropy", SoftmaxCrossEntropy);
REALM_EXPORT("gatherRows", GatherRows);
REALM_EXPORT("scatterAddRows", ScatterAddRows);
REALM_EXPORT("adamwStep", AdamwStep);
REALM_EXPORT("topk", Topk);

}  // namespace
}  // namespace realm
