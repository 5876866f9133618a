// CPU feature detection for runtime kernel dispatch: the addon is compiled for baseline x86-64 (or any other
// architecture) and picks AVX2+FMA / AVX-512F code paths at run time, so one binary runs on any x86-64 machine.
// REALM_CPU=baseline (or avx2) caps the detected features, to test the portable paths on a capable machine.
#pragma once
#include <cstdlib>
#include <cstring>

namespace realm {

struct CpuFeatures {
  bool avx2Fma = false;  // AVX2 and FMA3 (Haswell / Zen and later)
  bool avx512f = false;  // AVX-512 Foundation with OS support for the zmm state
};

inline const CpuFeatures& cpuFeatures() {
  static const CpuFeatures f = [] {
    CpuFeatures r;
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    r.avx2Fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    r.avx512f = r.avx2Fma && __builtin_cpu_supports("avx512f");
#endif
    const char* cap = std::getenv("REALM_CPU");
    if (cap && std::strcmp(cap, "baseline") == 0) r.avx2Fma = r.avx512f = false;
    if (cap && std::strcmp(cap, "avx2") == 0) r.avx512f = false;
    return r;
  }();
  return f;
}

}  // namespace realm

// Function attributes for the dispatched code paths (empty where the target is not x86 or the compiler lacks them).
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define REALM_X86 1
#define REALM_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define REALM_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))
#else
#define REALM_X86 0
#define REALM_TARGET_AVX2
#define REALM_TARGET_AVX512
#endif
#define REALM_INLINE inline __attribute__((always_inline))
