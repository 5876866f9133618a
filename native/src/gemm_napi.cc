// N-API bindings of the GEMM (src/engine/backend.ts: sgemm, sgemmBatched) plus thread-count and implementation
// controls: setThreads/getThreads (the shared pool), gemmImpl/gemmInfo (what runs), setGemmImpl (auto | own |
// openblas) and setGemmKernel (avx512 | avx2 | avx512emu | generic | best) for benchmarks and tests.
#include <algorithm>
#include <string>

#include "cpu.h"
#include "gemm.h"
#include "kernels.h"
#include "kernels_args.h"
#include "pool.h"
#include "registry.h"

namespace realm {
namespace {

// Elements spanned by a stored rows x cols matrix with row stride ld (0 if empty).
int64_t span(int64_t rows, int64_t cols, int64_t ld) { return rows > 0 && cols > 0 ? (rows - 1) * ld + cols : 0; }

bool overlaps(const float* a, int64_t na, const float* b, int64_t nb) {
  return na > 0 && nb > 0 && a < b + nb && b < a + na;
}

Napi::Value Sgemm(const Napi::CallbackInfo& info) {
  Args a(info, "sgemm", 13);
  bool tA, tB;
  int64_t M, N, K, lda, ldb, ldc, nA, nB, nC;
  double alpha, beta;
  float *A, *B, *C;
  if (!(a.flag(0, "transA", tA) && a.flag(1, "transB", tB) && a.dim(2, "M", M) && a.dim(3, "N", N) &&
        a.dim(4, "K", K) && a.number(5, "alpha", alpha) && a.f32(6, "A", A, nA) && a.dim(7, "lda", lda) &&
        a.f32(8, "B", B, nB) && a.dim(9, "ldb", ldb) && a.number(10, "beta", beta) && a.f32(11, "C", C, nC) &&
        a.dim(12, "ldc", ldc)))
    return a.env().Undefined();
  const int64_t rA = tA ? K : M, cA = tA ? M : K, rB = tB ? N : K, cB = tB ? K : N;
  const int64_t sA = span(rA, cA, lda), sB = span(rB, cB, ldb), sC = span(M, N, ldc);
  if (!(a.require(lda >= std::max<int64_t>(1, cA), "lda (" + std::to_string(lda) + ") must be >= " +
                                                       (tA ? std::string("M") : std::string("K")) + " and >= 1") &&
        a.require(ldb >= std::max<int64_t>(1, cB), "ldb (" + std::to_string(ldb) + ") must be >= " +
                                                       (tB ? std::string("K") : std::string("N")) + " and >= 1") &&
        a.require(ldc >= std::max<int64_t>(1, N), "ldc (" + std::to_string(ldc) + ") must be >= N and >= 1") &&
        a.atLeast("A", nA, sA, "(rows - 1) * lda + cols") && a.atLeast("B", nB, sB, "(rows - 1) * ldb + cols") &&
        a.atLeast("C", nC, sC, "(M - 1) * ldc + N") &&
        a.require(!overlaps(C, sC, A, K > 0 ? sA : 0) && !overlaps(C, sC, B, K > 0 ? sB : 0),
                  "C must not overlap A or B")))
    return a.env().Undefined();
  gemm::sgemm(tA, tB, M, N, K, (float)alpha, A, lda, B, ldb, (float)beta, C, ldc);
  return a.env().Undefined();
}

// Dense layer forward with the bias and activation applied as a GEMM epilogue (each finished block of the product,
// still in cache): pre = x · wᵀ + bias, out = gelu(pre) for act 1 (erf) / 2 (tanh); act 0 writes only pre.
struct BiasAct {
  const float* bias;
  float* out;
  int64_t ldo;
  int act;
};

void biasActEpilogue(const void* ctx, float* c, int64_t ldc, int64_t i0, int64_t j0, int64_t rows, int64_t cols) {
  const BiasAct& e = *static_cast<const BiasAct*>(ctx);
  kernels::biasActBlock(c, ldc, e.bias ? e.bias + j0 : nullptr, e.out ? e.out + i0 * e.ldo + j0 : nullptr, e.ldo, rows,
                        cols, e.act);
}

Napi::Value LinearForward(const Napi::CallbackInfo& info) {
  Args a(info, "linearForward", 9);
  float *x, *w, *bias, *pre, *out;
  int64_t nx, nw, nb, np, no, rows, nIn, nOut, act;
  if (!(a.f32(0, "x", x, nx) && a.f32(1, "w", w, nw) && a.f32OrNull(2, "bias", bias, nb) && a.f32(3, "pre", pre, np) &&
        a.f32OrNull(4, "out", out, no) && a.dim(5, "rows", rows) && a.dim(6, "nIn", nIn) && a.dim(7, "nOut", nOut) &&
        a.dim(8, "act", act) && a.require(act <= 2, "act must be 0 (none), 1 (gelu) or 2 (gelu_new)") &&
        a.require(act == 0 || out != nullptr, "out is required when act is not 0") &&
        a.atLeast("x", nx, rows * nIn, "rows * nIn") && a.atLeast("w", nw, nOut * nIn, "nOut * nIn") &&
        (bias == nullptr || a.atLeast("bias", nb, nOut, "nOut")) && a.atLeast("pre", np, rows * nOut, "rows * nOut") &&
        (act == 0 || a.atLeast("out", no, rows * nOut, "rows * nOut"))))
    return a.env().Undefined();
  const int64_t sP = rows * nOut;
  if (!a.require(!overlaps(pre, sP, x, nIn > 0 ? rows * nIn : 0) && !overlaps(pre, sP, w, nIn > 0 ? nOut * nIn : 0) &&
                     !overlaps(pre, sP, bias, bias ? nOut : 0) && (act == 0 || !overlaps(out, sP, pre, sP)),
                 "pre must not overlap x, w, bias or out"))
    return a.env().Undefined();
  const BiasAct ctx{bias, out, nOut, (int)act};
  const gemm::Epilogue ep{biasActEpilogue, &ctx};
  const bool needEp = bias != nullptr || act != 0;
  gemm::sgemmEpilogue(false, true, rows, nOut, nIn, 1.0f, x, std::max<int64_t>(1, nIn), w, std::max<int64_t>(1, nIn),
                      0.0f, pre, std::max<int64_t>(1, nOut), needEp ? &ep : nullptr);
  return a.env().Undefined();
}

Napi::Value SgemmBatched(const Napi::CallbackInfo& info) {
  Args a(info, "sgemmBatched", 14);
  bool tA, tB;
  int64_t batch, M, N, K, strideA, strideB, strideC, nA, nB, nC;
  double alpha, beta;
  float *A, *B, *C;
  if (!(a.dim(0, "batch", batch) && a.flag(1, "transA", tA) && a.flag(2, "transB", tB) && a.dim(3, "M", M) &&
        a.dim(4, "N", N) && a.dim(5, "K", K) && a.number(6, "alpha", alpha) && a.f32(7, "A", A, nA) &&
        a.dim(8, "strideA", strideA) && a.f32(9, "B", B, nB) && a.dim(10, "strideB", strideB) &&
        a.number(11, "beta", beta) && a.f32(12, "C", C, nC) && a.dim(13, "strideC", strideC)))
    return a.env().Undefined();
  // Optional row strides (arguments 14..16); the defaults are the natural row lengths of contiguous operands.
  int64_t lda = tA ? M : K, ldb = tB ? K : N, ldc = N;
  const int64_t rA = tA ? K : M, cA = tA ? M : K, rB = tB ? N : K, cB = tB ? K : N;
  if (info.Length() >= 17 && !(a.dim(14, "lda", lda) && a.dim(15, "ldb", ldb) && a.dim(16, "ldc", ldc)))
    return a.env().Undefined();
  if (!(a.require(lda >= std::max<int64_t>(1, cA), "lda (" + std::to_string(lda) + ") is smaller than a stored row") &&
        a.require(ldb >= std::max<int64_t>(1, cB), "ldb (" + std::to_string(ldb) + ") is smaller than a stored row") &&
        a.require(ldc >= std::max<int64_t>(1, N), "ldc (" + std::to_string(ldc) + ") must be >= N and >= 1")))
    return a.env().Undefined();
  // Extent of one stored matrix: (rows - 1) * ld + cols.
  auto extent = [](int64_t rows, int64_t cols, int64_t ld) { return rows > 0 && cols > 0 ? (rows - 1) * ld + cols : 0; };
  const int64_t mA = extent(rA, cA, lda), mB = extent(rB, cB, ldb), mC = extent(M, N, ldc);
  auto total = [&](int64_t stride, int64_t m) { return batch > 0 && m > 0 ? (batch - 1) * stride + m : 0; };
  const int64_t sA = K > 0 ? total(strideA, mA) : 0, sB = K > 0 ? total(strideB, mB) : 0, sC = total(strideC, mC);
  // Outputs are disjoint when each block starts below the previous one (strideC >= extent) or, within the same rows,
  // to its right (side by side: strideC >= N and the last block ends by column ldc, e.g. attention heads).
  const bool sideBySide = strideC >= N && (batch - 1) * strideC + N <= ldc;
  if (!(a.require(batch <= 1 || strideC >= mC || mC == 0 || sideBySide,
                  "strideC (" + std::to_string(strideC) + ") must be >= (M - 1) * ldc + N, or >= N with (batch - 1) * strideC + N <= ldc, so outputs do not overlap") &&
        a.atLeast("A", nA, sA, "(batch - 1) * strideA + (rows - 1) * lda + cols") &&
        a.atLeast("B", nB, sB, "(batch - 1) * strideB + (rows - 1) * ldb + cols") &&
        a.atLeast("C", nC, sC, "(batch - 1) * strideC + (M - 1) * ldc + N") &&
        a.require(!overlaps(C, sC, A, sA) && !overlaps(C, sC, B, sB), "C must not overlap A or B")))
    return a.env().Undefined();
  gemm::sgemmBatched(batch, tA, tB, M, N, K, (float)alpha, A, strideA, lda, B, strideB, ldb, (float)beta, C, strideC,
                     ldc);
  return a.env().Undefined();
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), ThreadPool::instance().threads());
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Args a(info, "setThreads", 1);
  int64_t n;
  if (!(a.dim(0, "n", n) && a.require(n >= 1 && n <= 256, "n must be in [1, 256]"))) return a.env().Undefined();
  ThreadPool::instance().setThreads((int)n);
  gemm::syncThreads((int)n);
  return a.env().Undefined();
}

Napi::Value GemmImpl(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), gemm::describe()); }

Napi::Value GemmInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("mode", gemm::mode());
  o.Set("kernel", gemm::kernel().name);
  o.Set("openblas", gemm::haveOpenBlas());
  o.Set("avx2", cpuFeatures().avx2Fma);
  o.Set("avx512f", cpuFeatures().avx512f);
  o.Set("describe", gemm::describe());
  o.Set("directA", gemm::direct());
  return o;
}

Napi::Value SetGemmImpl(const Napi::CallbackInfo& info) {
  Args a(info, "setGemmImpl", 1);
  if (!a.ok()) return a.env().Undefined();
  if (!info[0].IsString()) return a.typeError("mode must be a string"), a.env().Undefined();
  std::string m = info[0].As<Napi::String>().Utf8Value();
  if (!gemm::setMode(m))
    a.rangeError("mode '" + m + "' is not available (auto, own" +
                 (gemm::haveOpenBlas() ? ", openblas)" : "; OpenBLAS was not linked at build time)"));
  return a.env().Undefined();
}

Napi::Value SetGemmKernel(const Napi::CallbackInfo& info) {
  Args a(info, "setGemmKernel", 1);
  if (!a.ok()) return a.env().Undefined();
  if (!info[0].IsString()) return a.typeError("kernel must be a string"), a.env().Undefined();
  std::string k = info[0].As<Napi::String>().Utf8Value();
  if (!gemm::setKernel(k))
    a.rangeError("micro-kernel '" + k + "' is not supported on this CPU (avx512, avx2, avx512emu, generic, best)");
  return a.env().Undefined();
}

Napi::Value SetGemmDirect(const Napi::CallbackInfo& info) {
  Args a(info, "setGemmDirect", 1);
  if (!a.ok()) return a.env().Undefined();
  if (!info[0].IsBoolean()) return a.typeError("on must be a boolean"), a.env().Undefined();
  gemm::setDirect(info[0].As<Napi::Boolean>().Value());
  return a.env().Undefined();
}

REALM_EXPORT("sgemm", Sgemm);
REALM_EXPORT("setGemmDirect", SetGemmDirect);
REALM_EXPORT("sgemmBatched", SgemmBatched);
REALM_EXPORT("linearForward", LinearForward);
REALM_EXPORT("getThreads", GetThreads);
REALM_EXPORT("setThreads", SetThreads);
REALM_EXPORT("gemmImpl", GemmImpl);
REALM_EXPORT("gemmInfo", GemmInfo);
REALM_EXPORT("setGemmImpl", SetGemmImpl);
REALM_EXPORT("setGemmKernel", SetGemmKernel);

}  // namespace
}  // namespace realm
