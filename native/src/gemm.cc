// Single-precision GEMM driver, BLIS-style (Goto/van de Geijn): for each NC-column block of op(B) and KC-deep
// slice, pack the B block into NR-wide panels (kept in L3/L2), then for each MC-row block pack op(A) into MR-tall
// panels (kept in L2) and sweep register-blocked micro-kernels over the tile grid. Packing absorbs the transA /
// transB flags and zero-pads ragged edges, so the micro-kernels only see full MR x NR tiles of contiguous data.
// Threads: a large GEMM is split into one row (or column) range per pool thread, each packing its own panels;
// batched GEMMs run whole problems per thread. OpenBLAS, when linked at build time, can be chosen per call.
#include "gemm.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cpu.h"
#include "pool.h"

#ifdef REALM_HAVE_OPENBLAS
#include <cblas.h>
extern "C" void openblas_set_num_threads(int num_threads);
#endif

namespace realm {
namespace gemm {
namespace {

// 64-byte aligned scratch buffer that only grows; one per thread for the packed A and B panels.
struct Scratch {
  float* p = nullptr;
  size_t cap = 0;
  float* get(size_t n) {
    if (n > cap) {
      std::free(p);
      size_t bytes = (n * sizeof(float) + 63) & ~size_t(63);
      p = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!p) std::abort();
      cap = n;
    }
    return p;
  }
  ~Scratch() { std::free(p); }
};
thread_local Scratch tlsA, tlsB;

// C = beta * C over an M x N block (beta == 0 writes zeros, ignoring NaN).
void scaleC(int64_t M, int64_t N, float beta, float* C, int64_t ldc) {
  for (int64_t i = 0; i < M; i++) {
    float* c = C + i * ldc;
    if (beta == 0.0f) {
      std::memset(c, 0, N * sizeof(float));
    } else if (beta != 1.0f) {
      for (int64_t j = 0; j < N; j++) c[j] *= beta;
    }
  }
}

// Optional cache-block override for tuning on other CPUs: REALM_GEMM_BLOCKS="mc,kc,nc" (0 keeps the default).
struct BlockOverride {
  int64_t mc = 0, kc = 0, nc = 0;
};
const BlockOverride& blockOverride() {
  static const BlockOverride o = [] {
    BlockOverride b;
    const char* env = std::getenv("REALM_GEMM_BLOCKS");
    long mc = 0, kc = 0, nc = 0;
    if (env && std::sscanf(env, "%ld,%ld,%ld", &mc, &kc, &nc) == 3 && mc >= 0 && kc >= 0 && nc >= 0) {
      b.mc = mc;
      b.kc = kc;
      b.nc = nc;
    }
    return b;
  }();
  return o;
}

// An epilogue placed at column col0 of the whole product (the column-split path runs on a slice of C).
struct EpilogueAt {
  const Epilogue* ep;
  int64_t col0;
  void operator()(float* C, int64_t ldc, int64_t i0, int64_t j0, int64_t rows, int64_t cols) const {
    if (ep && rows > 0 && cols > 0) ep->fn(ep->ctx, C + i0 * ldc + j0, ldc, i0, col0 + j0, rows, cols);
  }
};

// Rows [m0, m1) of C[:, jc:jc+nc] += op(A)[m0:m1, pc:pc+kc] @ packed B block (b = beta for the first k slice):
// packs MC-row blocks of A into bufA and sweeps the micro-kernel over the MR x NR tiles. direct: full MR-row tiles
// read A in place (uk.direct) and only a ragged last row tile is packed. On the last k slice (lastK) the epilogue
// runs on each finished mc x nc block of C right after its micro-kernels, while it is still in L2 (rows of nc
// contiguous floats). It first ran per mc x NR strip, "while in L1" — but C's rows are often 4 KiB apart (N = 1024),
// so a strip's rows all map to one L1 set and missed anyway, and 16-float rows vectorised poorly: bias + erf GELU
// cost ~7 ns per element there against ~1.5 per block (bench harness, 1024 x 1024 x 256, 1 thread).
void rowBlocks(const MicroKernel& uk, bool transA, const float* A, int64_t lda, int64_t m0, int64_t m1, int64_t MC,
               int64_t pc, int64_t kc, int64_t jc, int64_t nc, const float* bufB, float* bufA, float alpha, float b,
               float* C, int64_t ldc, bool direct, const EpilogueAt& ep, bool lastK) {
  const int MR = uk.mr, NR = uk.nr;
  const int64_t rs = transA ? 1 : lda, cs = transA ? lda : 1;  // op(A)(i, k) at A[i * rs + k * cs]
  for (int64_t ic = m0; ic < m1; ic += MC) {
    const int64_t mc = std::min(MC, m1 - ic);
    const int64_t full = direct ? mc / MR * MR : 0;  // rows read in place
    if (mc > full) packA(transA, A, lda, ic + full, mc - full, pc, kc, MR, bufA);
    for (int64_t jr = 0; jr < nc; jr += NR) {
      const int nr = (int)std::min<int64_t>(NR, nc - jr);
      const float* bp = bufB + jr * kc;
      float* cc = C + ic * ldc + jc + jr;
      for (int64_t ir = 0; ir < full; ir += MR)
        uk.direct(kc, A + (ic + ir) * rs + pc * cs, rs, cs, bp, cc + ir * ldc, ldc, alpha, b, MR, nr);
      for (int64_t ir = full; ir < mc; ir += MR) {
        const int mr = (int)std::min<int64_t>(MR, mc - ir);
        uk.fn(kc, bufA + (ir - full) * kc, bp, cc + ir * ldc, ldc, alpha, b, mr, nr);
      }
    }
    if (lastK) ep(C, ldc, ic, jc, mc, nc);  // this mc x nc block of C is final and still in L2
  }
}

// An on-by-default switch: false only when environment variable `name` is "0".
bool envSwitchOn(const char* name) {
  const char* env = std::getenv(name);
  return !(env && std::strcmp(env, "0") == 0);
}

// Direct-A switch (REALM_GEMM_DIRECT=0 disables it; setGemmDirect for tests and A/B benchmarks).
std::atomic<bool>& directAllowed() {
  static std::atomic<bool> on{envSwitchOn("REALM_GEMM_DIRECT")};
  return on;
}

// Small-M loop order in gemmSerial (REALM_GEMM_SMALLM=0 disables it, for A/B benchmarks; results are identical).
bool smallMOrder() {
  static const bool on = envSwitchOn("REALM_GEMM_SMALLM");
  return on;
}

// Products at most this many columns wide read A in place (direct micro-kernel) instead of packing it: with only a
// few NR panels to sweep, packing A costs about as much as the arithmetic (attention's 128 x 64 x 128 products).
constexpr int64_t kDirectMaxN = 128;

struct Blocks {
  int64_t MC, KC, NC;
};

// Cache blocks for an M x N x K problem (defaults of the micro-kernel, or REALM_GEMM_BLOCKS).
Blocks blocksFor(const MicroKernel& uk, int64_t M, int64_t N, int64_t K) {
  const int MR = uk.mr, NR = uk.nr;
  const BlockOverride& bo = blockOverride();
  const int64_t mcB = bo.mc ? (bo.mc + MR - 1) / MR * MR : uk.mc, kcB = bo.kc ? bo.kc : uk.kc;
  const int64_t ncB = bo.nc ? (bo.nc + NR - 1) / NR * NR : uk.nc;
  return {std::min<int64_t>(mcB, (M + MR - 1) / MR * MR), std::min<int64_t>(kcB, K),
          std::min<int64_t>(ncB, (N + NR - 1) / NR * NR)};
}

// The blocked algorithm on the calling thread.
void gemmSerial(const MicroKernel& uk, bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
                bool direct, const EpilogueAt& ep) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.0f) {
    scaleC(M, N, beta, C, ldc);
    ep(C, ldc, 0, 0, M, N);
    return;
  }
  const Blocks bl = blocksFor(uk, M, N, K);
  const int64_t MC = bl.MC, KC = bl.KC, NC = bl.NC;
  const int NR = uk.nr;
  float* bufA = tlsA.get(MC * KC);
  if (M <= MC && N > MC && transB && !direct && smallMOrder()) {
    // Few rows, many columns, B stored [N, K] (the tied MLM decoder's logits, 141 x 8000 x 256): A is one block,
    // packed once per K slice; each B panel (NR contiguous rows of B) is packed right before the micro-kernels sweep
    // it, so it is read from L1 while hot instead of from a multi-MB packed B block. C++ harness, 1 thread, 3 rounds:
    // 39-43 -> 51-55 GFLOP/s on the decoder shape (OpenBLAS 49-52). Not for B stored [K, N]: one panel then reads
    // 64 bytes per row at a stride of ldb (measured slower).
    float* bufB = tlsB.get(NR * KC);
    const int MR = uk.mr;
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = std::min(KC, K - pc);
      const float b = pc == 0 ? beta : 1.0f;
      packA(transA, A, lda, 0, M, pc, kc, MR, bufA);
      for (int64_t jr = 0; jr < N; jr += NR) {
        const int nr = (int)std::min<int64_t>(NR, N - jr);
        packB(transB, B, ldb, pc, kc, jr, nr, NR, bufB);
        for (int64_t ir = 0; ir < M; ir += MR) {
          const int mr = (int)std::min<int64_t>(MR, M - ir);
          uk.fn(kc, bufA + ir * kc, bufB, C + ir * ldc + jr, ldc, alpha, b, mr, nr);
        }
        if (pc + kc >= K) ep(C, ldc, 0, jr, M, nr);  // this panel of C is final and hot
      }
    }
    return;
  }
  float* bufB = tlsB.get(NC * KC);
  for (int64_t jc = 0; jc < N; jc += NC) {
    const int64_t nc = std::min(NC, N - jc);
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = std::min(KC, K - pc);
      packB(transB, B, ldb, pc, kc, jc, nc, NR, bufB);
      rowBlocks(uk, transA, A, lda, 0, M, MC, pc, kc, jc, nc, bufB, bufA, alpha, pc == 0 ? beta : 1.0f, C, ldc,
                direct, ep, pc + kc >= K);
    }
  }
}

// Splits one GEMM over the pool: row ranges when M >= N (B packed once, cooperatively, and shared), else column
// ranges (each thread runs the blocked algorithm on its columns, packing its own panels).
void gemmOwn(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
             const float* B, int64_t ldb, float beta, float* C, int64_t ldc, bool allowThreads,
             const Epilogue* epilogue = nullptr) {
  const MicroKernel& uk = kernel();
  const EpilogueAt ep{epilogue, 0};
  const bool direct = N <= kDirectMaxN && directAllowed().load(std::memory_order_relaxed);
  const int threads = allowThreads ? ThreadPool::instance().threads() : 1;
  const double flops = 2.0 * (double)M * (double)N * (double)K;
  const bool splitM = M >= N;
  const int64_t unit = splitM ? uk.mr : uk.nr;
  const int64_t units = ((splitM ? M : N) + unit - 1) / unit;
  const int64_t parts = std::min<int64_t>(threads, units);
  if (parts <= 1 || flops < 4e6) {
    gemmSerial(uk, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, direct, ep);
    return;
  }
  if (splitM) {
    if (K <= 0 || alpha == 0.0f) {
      gemmSerial(uk, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, direct, ep);
      return;
    }
    // Row chunks sharing one packed B block (packed cooperatively, panel ranges per thread). About 4 chunks per
    // thread, handed out dynamically by the pool, so a thread that loses its core to another process (shared
    // machines) does not hold up the whole product; each chunk packs its own A rows, so no packing is repeated.
    const Blocks bl = blocksFor(uk, M, N, K);
    const int NR = uk.nr, MR = uk.mr;
    int64_t chunkRows = (M + 4 * threads - 1) / (4 * threads);
    chunkRows = std::min<int64_t>(bl.MC, std::max<int64_t>(4 * MR, chunkRows));
    chunkRows = (chunkRows + MR - 1) / MR * MR;
    const int64_t chunks = (M + chunkRows - 1) / chunkRows;
    float* bufB = tlsB.get(bl.NC * bl.KC);
    for (int64_t jc = 0; jc < N; jc += bl.NC) {
      const int64_t nc = std::min(bl.NC, N - jc);
      const int64_t panels = (nc + NR - 1) / NR;
      for (int64_t pc = 0; pc < K; pc += bl.KC) {
        const int64_t kc = std::min(bl.KC, K - pc);
        const int64_t packParts = std::min<int64_t>(parts, panels);
        parallelFor(packParts, 1, [&](int64_t lo, int64_t hi) {
          for (int64_t p = lo; p < hi; p++) {
            const int64_t p0 = panels * p / packParts, p1 = panels * (p + 1) / packParts;
            packB(transB, B, ldb, pc, kc, jc + p0 * NR, std::min(nc, p1 * NR) - p0 * NR, NR, bufB + p0 * NR * kc);
          }
        });
        parallelFor(chunks, 1, [&](int64_t lo, int64_t hi) {
          float* bufA = tlsA.get(bl.MC * bl.KC);
          for (int64_t p = lo; p < hi; p++) {
            const int64_t m0 = p * chunkRows, m1 = std::min(M, m0 + chunkRows);
            rowBlocks(uk, transA, A, lda, m0, m1, bl.MC, pc, kc, jc, nc, bufB, bufA, alpha, pc == 0 ? beta : 1.0f,
                      C, ldc, direct, ep, pc + kc >= K);
          }
        });
      }
    }
    return;
  }
  // Column ranges, each running the blocked algorithm on its columns (packing its own A). Wide products (N >= 1024)
  // use up to 4 ranges per thread, handed out dynamically (load balance on a shared machine); narrower ones one per
  // thread, because every range re-packs all of op(A).
  const int64_t perThread = N >= 1024 ? 4 : 1;
  const int64_t colParts = std::min<int64_t>(units, (int64_t)threads * perThread);
  parallelFor(colParts, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; p++) {
      const int64_t u0 = units * p / colParts, u1 = units * (p + 1) / colParts;
      const int64_t n0 = u0 * unit, n1 = std::min(N, u1 * unit);
      const float* b = transB ? B + n0 * ldb : B + n0;
      gemmSerial(uk, transA, transB, M, n1 - n0, K, alpha, A, lda, b, ldb, beta, C + n0, ldc, direct,
                 EpilogueAt{epilogue, n0});
    }
  });
}

enum class Mode { Auto, Own, OpenBlas };

#ifdef REALM_HAVE_OPENBLAS
constexpr bool kHaveOpenBlas = true;
void gemmOpenBlas(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                  int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (beta == 0.0f) scaleC(M, N, 0.0f, C, ldc);  // BLAS may read C when beta == 0: clear NaNs first
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, (int)M, (int)N,
              (int)K, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
}
#else
constexpr bool kHaveOpenBlas = false;
void gemmOpenBlas(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t, float,
                  float*, int64_t) {}
#endif

const MicroKernel* bestKernel() {
  const CpuFeatures& f = cpuFeatures();
  if (f.avx512f && kernelAvx512()) return kernelAvx512();
  if (f.avx2Fma && kernelAvx2()) return kernelAvx2();
  return kernelGeneric();
}

const MicroKernel* kernelByName(const std::string& name) {
  const CpuFeatures& f = cpuFeatures();
  if (name == "avx512") return f.avx512f ? kernelAvx512() : nullptr;
  if (name == "avx2") return f.avx2Fma ? kernelAvx2() : nullptr;
  if (name == "avx512emu") return f.avx2Fma ? kernelAvx512Emu() : nullptr;
  if (name == "generic") return kernelGeneric();
  return nullptr;
}

std::atomic<const MicroKernel*>& kernelSlot() {
  static std::atomic<const MicroKernel*> slot{[] {
    const char* env = std::getenv("REALM_GEMM_KERNEL");
    const MicroKernel* k = env && *env ? kernelByName(env) : nullptr;
    if (env && *env && !k) std::fprintf(stderr, "realm-lm: REALM_GEMM_KERNEL=%s is not available here\n", env);
    return k ? k : bestKernel();
  }()};
  return slot;
}

bool parseMode(const std::string& s, Mode* out) {
  if (s == "auto") *out = Mode::Auto;
  else if (s == "own") *out = Mode::Own;
  else if (s == "openblas" && kHaveOpenBlas) *out = Mode::OpenBlas;
  else return false;
  return true;
}

std::atomic<Mode>& modeSlot() {
  static std::atomic<Mode> slot{[] {
    Mode m = Mode::Auto;
    const char* env = std::getenv("REALM_GEMM");
    if (env && *env && !parseMode(env, &m))
      std::fprintf(stderr, "realm-lm: REALM_GEMM=%s is not available (use own%s); using auto\n", env,
                   kHaveOpenBlas ? ", openblas or auto" : " or auto; OpenBLAS was not found at build time");
    return m;
  }()};
  return slot;
}

// Auto mode (measured with bench/gemm.ts and a C++ A/B harness on Zen 3, CPU-time based, noisy shared VM):
// single-threaded, OpenBLAS's Haswell kernels were ~5-15% faster for large products with K >= 512 (1024^3: ~78 vs
// ~68 GFLOP/s per core); ours matched or won for K = 256 (BERT-mini projections, FFN up) and for batched attention
// (OpenBLAS runs the batch serially). Multi-threaded the gap was within noise, and OpenBLAS's own worker threads
// spin after each call, competing with our pool for the same cores, so with > 1 thread auto always uses ours.
bool preferOpenBlas(int64_t M, int64_t N, int64_t K) {
  return ThreadPool::instance().threads() == 1 && K >= 512 && M >= 256 && N >= 256;
}

bool useOpenBlas(int64_t M, int64_t N, int64_t K) {
  if (!kHaveOpenBlas) return false;
  const Mode m = modeSlot().load();
  return m == Mode::OpenBlas || (m == Mode::Auto && preferOpenBlas(M, N, K));
}

// OpenBLAS starts with its own thread count; align it with the pool once at load.
struct OpenBlasThreadInit {
  OpenBlasThreadInit() { syncThreads(ThreadPool::instance().threads()); }
} openBlasThreadInit;

}  // namespace

const MicroKernel& kernel() { return *kernelSlot().load(); }

bool setKernel(const std::string& name) {
  const MicroKernel* k = name == "best" ? bestKernel() : kernelByName(name);
  if (!k) return false;
  kernelSlot().store(k);
  return true;
}

bool haveOpenBlas() { return kHaveOpenBlas; }

void setDirect(bool on) { directAllowed().store(on); }
bool direct() { return directAllowed().load(); }

bool setMode(const std::string& s) {
  Mode m;
  if (!parseMode(s, &m)) return false;
  modeSlot().store(m);
  return true;
}

std::string mode() {
  switch (modeSlot().load()) {
    case Mode::Own: return "own";
    case Mode::OpenBlas: return "openblas";
    default: return "auto";
  }
}

std::string describe() {
  const std::string own = std::string("own(") + kernel().name + ")";
  switch (modeSlot().load()) {
    case Mode::Own: return own;
    case Mode::OpenBlas: return "openblas";
    default: return kHaveOpenBlas ? "auto(" + own + "|openblas)" : own;
  }
}

void syncThreads(int n) {
#ifdef REALM_HAVE_OPENBLAS
  openblas_set_num_threads(n);
#else
  (void)n;
#endif
}

void sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  sgemmEpilogue(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, nullptr);
}

void sgemmEpilogue(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                   int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc, const Epilogue* ep) {
  if (useOpenBlas(M, N, K)) {
    gemmOpenBlas(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    if (ep && M > 0 && N > 0)
      parallelFor(M, std::max<int64_t>(1, (1 << 14) / N), [&](int64_t lo, int64_t hi) {
        ep->fn(ep->ctx, C + lo * ldc, ldc, lo, 0, hi - lo, N);
      });
    return;
  }
  gemmOwn(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, true, ep);
}

void sgemmBatched(int64_t batch, bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                  const float* A, int64_t strideA, int64_t lda, const float* B, int64_t strideB, int64_t ldb,
                  float beta, float* C, int64_t strideC, int64_t ldc) {
  if (batch <= 0 || M <= 0 || N <= 0) return;
  const int threads = ThreadPool::instance().threads();
  const double flops = 2.0 * (double)M * (double)N * (double)K;
  // Forced OpenBLAS runs the problems in sequence (it threads each one itself).
  if (kHaveOpenBlas && modeSlot().load() == Mode::OpenBlas) {
    for (int64_t i = 0; i < batch; i++)
      gemmOpenBlas(transA, transB, M, N, K, alpha, A + i * strideA, lda, B + i * strideB, ldb, beta,
                   C + i * strideC, ldc);
    return;
  }
  // Few large problems: thread inside each one. Otherwise one whole problem per task.
  if (threads <= 1 || batch == 1 || (batch < 2 * threads && flops >= 2e7) || flops * batch < 4e6) {
    for (int64_t i = 0; i < batch; i++)
      gemmOwn(transA, transB, M, N, K, alpha, A + i * strideA, lda, B + i * strideB, ldb, beta, C + i * strideC,
              ldc, true);
    return;
  }
  parallelFor(batch, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; i++)
      gemmOwn(transA, transB, M, N, K, alpha, A + i * strideA, lda, B + i * strideB, ldb, beta, C + i * strideC,
              ldc, false);
  });
}

}  // namespace gemm
}  // namespace realm
