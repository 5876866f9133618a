// Internal API of the single-precision GEMM (BLIS-style: packed panels, cache blocking, register-blocked
// micro-kernels selected at run time, optional OpenBLAS). Row-major storage, BLAS sgemm semantics:
// C[M,N] = alpha * op(A)[M,K] @ op(B)[K,N] + beta * C; beta == 0 ignores C's old contents (even NaN).
#pragma once
#include <cstdint>
#include <string>

namespace realm {
namespace gemm {

// A register-blocked micro-kernel: computes an MR x NR tile of C from packed panels
// a [kc][MR] and b [kc][NR]: C[0:mr, 0:nr] = alpha * a^T b + beta * C (beta == 0 overwrites).
using MicroKernelFn = void (*)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float alpha,
                               float beta, int mr, int nr);

// The same tile from an UNPACKED A: op(A)(i, k) is read at a[i * rs + k * cs] (rs = lda, cs = 1 for A stored [M, K];
// rs = 1, cs = lda for A stored [K, M]). All MR rows must exist (ragged row tiles go through the packed kernel).
// Small products skip packing A with it: packing costs as much as the arithmetic when N is only a few panels wide.
using MicroKernelDirectFn = void (*)(int64_t kc, const float* a, int64_t rs, int64_t cs, const float* b, float* c,
                                     int64_t ldc, float alpha, float beta, int mr, int nr);

struct MicroKernel {
  const char* name;  // "avx512", "avx2", "avx512emu" (16-wide code on AVX2, for testing), "generic"
  int mr, nr;        // register tile (rows of A, columns of B)
  int mc, kc, nc;    // cache blocks: A block mc x kc lives in L2, B panel kc x nr in L1, B block kc x nc in L3
  MicroKernelFn fn;
  MicroKernelDirectFn direct;
};

// Kernel tables (defined in gemm_ukernels.cc); nullptr when not compiled for this architecture.
const MicroKernel* kernelAvx512();
const MicroKernel* kernelAvx2();
const MicroKernel* kernelAvx512Emu();
const MicroKernel* kernelGeneric();

// Packing (gemm_pack.cc). packA: ceil(mc/MR) panels [kc][MR] of op(A)[i0:i0+mc, k0:k0+kc];
// packB: ceil(nc/NR) panels [kc][NR] of op(B)[k0:k0+kc, j0:j0+nc]; both zero-padded to full panels.
void packA(bool transA, const float* A, int64_t lda, int64_t i0, int64_t mc, int64_t k0, int64_t kc, int MR,
           float* dst);
void packB(bool transB, const float* B, int64_t ldb, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int NR,
           float* dst);

// Single GEMM; multi-threaded over the pool when large enough (serial inside a pool task).
void sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// `batch` GEMMs; operand i starts at i * stride (stride 0 broadcasts). lda/ldb/ldc are given explicitly.
// Work applied to finished blocks of C while they are still in cache (C = alpha op(A) op(B) + beta C is complete
// for the block): fn(ctx, c, ldc, i0, j0, rows, cols) gets the block's first element and its position in the whole C.
// It must touch only that block of C (and state of its own indexed by the same rows / columns); blocks run in any
// order and on any pool thread.
struct Epilogue {
  void (*fn)(const void* ctx, float* c, int64_t ldc, int64_t i0, int64_t j0, int64_t rows, int64_t cols);
  const void* ctx;
};

// sgemm followed by `ep` over every block of C (ep == nullptr: plain sgemm).
void sgemmEpilogue(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                   int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc, const Epilogue* ep);

void sgemmBatched(int64_t batch, bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                  const float* A, int64_t strideA, int64_t lda, const float* B, int64_t strideB, int64_t ldb,
                  float beta, float* C, int64_t strideC, int64_t ldc);

// Implementation choice: "auto" (per call, whichever measured faster), "own" or "openblas".
// setMode returns false (and changes nothing) for an unknown mode or "openblas" when it is not linked.
bool setMode(const std::string& mode);
std::string mode();
// Micro-kernel of our own GEMM: "avx512", "avx2", "avx512emu", "generic"; false if unsupported here.
bool setKernel(const std::string& name);
const MicroKernel& kernel();
bool haveOpenBlas();
// Whether narrow products (N <= 128) read A unpacked (default on; REALM_GEMM_DIRECT=0 turns it off).
void setDirect(bool on);
bool direct();
// Human-readable description of what runs, e.g. "own(avx2)", "openblas", "auto(own(avx2)|openblas)".
std::string describe();
// Keeps OpenBLAS's own thread count in step with the pool (no-op without OpenBLAS).
void syncThreads(int n);

}  // namespace gemm
}  // namespace realm
