// Measured FMA peak of this machine: `fmaPeak(threads, ms)` runs a register-only loop of independent fused
// multiply-adds (12 accumulators, enough to cover FMA latency on two pipes) on `threads` OS threads at once and
// returns their total GFLOP/s, with the widest vectors the CPU has (AVX-512, AVX2, else scalar). Benchmarks report
// GEMM and train-step throughput against this figure, because a virtual machine's cores may share FPUs: the
// data sheet's per-core peak times the core count is then not what two threads can reach together.
#include <napi.h>

#include <chrono>
#include <thread>
#include <vector>

#include "cpu.h"
#include "kernels_args.h"
#include "registry.h"

#if REALM_X86
#include <immintrin.h>
#endif

namespace realm {
namespace {

using Clock = std::chrono::steady_clock;

// The body of one measurement, expanded once per ISA (a lambda would not inherit the function's target attribute):
// FMA blocks until `seconds` have passed; returns the flops done. V: vector type, SET(x): broadcast, FMA(a, b, c).
#define REALM_FMA_LOOP(V, LANES, SET, FMA)                                                                       \
  volatile float seed = 0.5f; /* run-time starting values: no accumulator can be folded into another */        \
  V a0 = SET(seed), a1 = SET(seed + 1), a2 = SET(seed + 2), a3 = SET(seed + 3), a4 = SET(seed + 4),           \
    a5 = SET(seed + 5), a6 = SET(seed + 6), a7 = SET(seed + 7), a8 = SET(seed + 8), a9 = SET(seed + 9),       \
    a10 = SET(seed + 10), a11 = SET(seed + 11);                                                               \
  const V b = SET(0.99999f), c = SET(1e-6f);                                                                  \
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);                                      \
  const long block = 1 << 16;                                                                                  \
  long blocks = 0;                                                                                             \
  do {                                                                                                         \
    for (long k = 0; k < block; k++) {                                                                         \
      a0 = FMA(a0, b, c); a1 = FMA(a1, b, c); a2 = FMA(a2, b, c); a3 = FMA(a3, b, c);                          \
      a4 = FMA(a4, b, c); a5 = FMA(a5, b, c); a6 = FMA(a6, b, c); a7 = FMA(a7, b, c);                          \
      a8 = FMA(a8, b, c); a9 = FMA(a9, b, c); a10 = FMA(a10, b, c); a11 = FMA(a11, b, c);                      \
    }                                                                                                          \
    blocks++;                                                                                                  \
  } while (Clock::now() < end);                                                                                \
  V all[12] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11}; /* keep every chain live */                  \
  float sum = 0;                                                                                               \
  for (const V& v : all) sum += ((const float*)&v)[0];                                                         \
  volatile float sink = sum;                                                                                   \
  (void)sink;                                                                                                  \
  return (double)blocks * block * 12 * LANES * 2;

#if REALM_X86
REALM_TARGET_AVX512 double runAvx512(double seconds) { REALM_FMA_LOOP(__m512, 16, _mm512_set1_ps, _mm512_fmadd_ps) }
REALM_TARGET_AVX2 double runAvx2(double seconds) { REALM_FMA_LOOP(__m256, 8, _mm256_set1_ps, _mm256_fmadd_ps) }
#endif
inline float scalarFma(float a, float b, float c) { return a * b + c; }
inline float scalarSet(float x) { return x; }
double runScalar(double seconds) { REALM_FMA_LOOP(float, 1, scalarSet, scalarFma) }

// The widest FMA loop this CPU runs, and its name.
using RunFn = double (*)(double seconds);
RunFn bestRun(const char** isa) {
#if REALM_X86
  const CpuFeatures& f = cpuFeatures();
  if (f.avx512f) return *isa = "avx512", runAvx512;
  if (f.avx2Fma) return *isa = "avx2", runAvx2;
#endif
  *isa = "scalar";
  return runScalar;
}

// fmaPeak(threads, ms) -> { gflops, threads, isa }
Napi::Value FmaPeak(const Napi::CallbackInfo& info) {
  Args a(info, "fmaPeak", 2);
  int64_t threads = 0;
  double ms = 0;
  if (!a.ok() || !a.dim(0, "threads", threads) || !a.number(1, "ms", ms)) return a.env().Undefined();
  if (threads < 1 || threads > 256) return a.rangeError("threads must be in [1, 256]"), a.env().Undefined();
  if (!(ms > 0 && ms <= 60000)) return a.rangeError("ms must be in (0, 60000]"), a.env().Undefined();
  const char* isa = nullptr;
  const RunFn run = bestRun(&isa);
  std::vector<double> flops((size_t)threads, 0.0);
  const auto t0 = Clock::now();
  std::vector<std::thread> pool;
  for (int64_t t = 0; t < threads; t++) pool.emplace_back([&, t] { flops[(size_t)t] = run(ms / 1e3); });
  for (auto& th : pool) th.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  double total = 0;
  for (double f : flops) total += f;
  Napi::Object o = Napi::Object::New(a.env());
  o.Set("gflops", total / seconds / 1e9);
  o.Set("threads", (double)threads);
  o.Set("isa", isa);
  return o;
}

REALM_EXPORT("fmaPeak", FmaPeak);

}  // namespace
}  // namespace realm
