// N-API exports of the MIPS index kernels (src/index/): LUT16 fast scan, ScannIndex search handles and queries,
// exact inner-product top-k (FlatIndex, k-means assignment; kernel in index_flat.cc). The kernels in index_kernels_impl.h are
// compiled twice (baseline and AVX2+FMA) and chosen at run time; `indexIsa('scalar')` forces the baseline path
// so tests can check both paths give identical LUT16 sums.
#include <immintrin.h>

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "gemm.h"
#include "index_common.h"
#include "index_flat_impl.h"
#include "index_napi.h"
#include "pool.h"

#define REALM_IDX_NS scalar
#define REALM_IDX_AVX2 0
#include "index_kernels_impl.h"
#undef REALM_IDX_NS
#undef REALM_IDX_AVX2

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#define REALM_IDX_NS avx2
#define REALM_IDX_AVX2 1
#include "index_kernels_impl.h"
#undef REALM_IDX_NS
#undef REALM_IDX_AVX2
#pragma GCC pop_options

namespace realm {
namespace idx {

bool cpuHasAvx2() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  }();
  return has;
}

int& isaLevel() {
  static int level = cpuHasAvx2() ? 1 : 0;
  return level;
}

namespace {

// Asks the kernel to back the 2 MiB-aligned interior of [p, p + bytes) with transparent huge pages, collapsing
// the pages now (MADV_COLLAPSE, Linux >= 6.1) and marking the range for khugepaged otherwise. A query reads
// ~50 leaves of codes and ~100 random float rows, each a TLB miss on 4 KiB pages; advisory only, errors ignored.
void adviseHuge(const void* p, size_t bytes) {
#if defined(__linux__)
  constexpr uintptr_t kHuge = 2u << 20;
  const uintptr_t lo = ((uintptr_t)p + kHuge - 1) & ~(kHuge - 1), hi = ((uintptr_t)p + bytes) & ~(kHuge - 1);
  if (hi <= lo) return;
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
  if (madvise((void*)lo, hi - lo, MADV_COLLAPSE) != 0) madvise((void*)lo, hi - lo, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

// IEEE fp16 copies of floats (round to nearest even; F16C, present on every AVX2 CPU this addon uses).
__attribute__((target("f16c,avx"))) void toHalf(const float* x, size_t n, uint16_t* out) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128((__m128i*)(out + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; i++) out[i] = _cvtss_sh(x[i], _MM_FROUND_TO_NEAREST_INT);
}

// A ScannIndex search handle: raw views of the index arrays plus a reference that keeps them alive.
struct ScannHandle {
  ScannView v;
  std::vector<float> centroidsT;
  std::vector<uint16_t> centroidsH;
  Napi::ObjectReference keep;
};

// indexIsa(name?: 'auto' | 'scalar' | 'avx2') -> the active kernel set ('scalar' | 'avx2').
Napi::Value IndexIsa(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() > 0 && info[0].IsString()) {
    std::string n = info[0].As<Napi::String>().Utf8Value();
    if (n == "auto") isaLevel() = cpuHasAvx2() ? 1 : 0;
    else if (n == "scalar") isaLevel() = 0;
    else if (n == "avx2") {
      if (!cpuHasAvx2()) return throwErr(env, "indexIsa: this CPU has no AVX2+FMA");
      isaLevel() = 1;
    } else return throwErr(env, "indexIsa: unknown kernel set '" + n + "' (auto, scalar, avx2)");
  }
  return Napi::String::New(env, isaLevel() ? "avx2" : "scalar");
}

// indexLut16Scan(codes: Uint8Array [groups*pairs*32], lut: Uint8Array [pairs*32], pairs, groups) -> Uint16Array [groups*32]
Napi::Value IndexLut16Scan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Arr<uint8_t> codes, lut;
  if (!getArr(info, 0, napi_uint8_array, codes, "codes") || !getArr(info, 1, napi_uint8_array, lut, "lut")) return env.Undefined();
  const int pairs = info[2].As<Napi::Number>().Int32Value(), groups = info[3].As<Napi::Number>().Int32Value();
  if (pairs < 0 || groups < 0 || codes.len < (size_t)groups * pairs * 32 || lut.len < (size_t)pairs * 32)
    return throwErr(env, "indexLut16Scan: array too short for pairs/groups");
  Napi::Uint16Array out = Napi::Uint16Array::New(env, (size_t)groups * 32);
  if (isaLevel()) avx2::lut16Groups(codes.p, lut.p, pairs, groups, out.Data());
  else scalar::lut16Groups(codes.p, lut.p, pairs, groups, out.Data());
  return out;
}

// indexFlatSearch(db: F32 [nDb*d], nDb, d, bias: F32 [nDb] | null, queries: F32 [nq*d], nq, k,
//                 outIdx: I32 [nq*k], outScores: F32 [nq*k]) -> undefined
Napi::Value IndexFlatSearch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Arr<float> db, bias, q, outS;
  Arr<int32_t> outI;
  if (!getArr(info, 0, napi_float32_array, db, "db")) return env.Undefined();
  const int64_t nDb = (int64_t)info[1].As<Napi::Number>().Int64Value();
  const int d = info[2].As<Napi::Number>().Int32Value();
  const bool hasBias = !info[3].IsNull() && !info[3].IsUndefined();
  if (hasBias && !getArr(info, 3, napi_float32_array, bias, "bias")) return env.Undefined();
  if (!getArr(info, 4, napi_float32_array, q, "queries")) return env.Undefined();
  const int64_t nq = (int64_t)info[5].As<Napi::Number>().Int64Value();
  const int k = info[6].As<Napi::Number>().Int32Value();
  if (!getArr(info, 7, napi_int32_array, outI, "outIdx") || !getArr(info, 8, napi_float32_array, outS, "outScores"))
    return env.Undefined();
  if (d < 1 || k < 1 || nDb < 0 || nq < 0 || db.len < (size_t)(nDb * d) || q.len < (size_t)(nq * d) ||
      outI.len < (size_t)(nq * k) || outS.len < (size_t)(nq * k) || (hasBias && bias.len < (size_t)nDb))
    return throwErr(env, "indexFlatSearch: inconsistent sizes");
  flatSearch(db.p, nDb, d, hasBias ? bias.p : nullptr, q.p, nq, k, outI.p, outS.p);
  return env.Undefined();
}

// indexScannCreate({ d, pairs, leaves, centroids: F32 [leaves*d], codebooks: F32 [2*pairs*32], codes: U8,
//                    leafStart: I32, leafCount: I32, slotRow: I32, vectors: F32, rowId: U32 }) -> handle
Napi::Value IndexScannCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) return throwErr(env, "indexScannCreate: expected an object");
  Napi::Object o = info[0].As<Napi::Object>();
  auto h = std::make_unique<ScannHandle>();
  ScannView& v = h->v;
  v.d = o.Get("d").As<Napi::Number>().Int32Value();
  v.pairs = o.Get("pairs").As<Napi::Number>().Int32Value();
  v.leaves = o.Get("leaves").As<Napi::Number>().Int32Value();
  Arr<float> cent, cb, vec;
  Arr<uint8_t> codes;
  Arr<int32_t> ls, lc, sr;
  Arr<uint32_t> rid;
  if (!getArrV(env, o.Get("centroids"), napi_float32_array, cent, "centroids") ||
      !getArrV(env, o.Get("codebooks"), napi_float32_array, cb, "codebooks") ||
      !getArrV(env, o.Get("codes"), napi_uint8_array, codes, "codes") ||
      !getArrV(env, o.Get("leafStart"), napi_int32_array, ls, "leafStart") ||
      !getArrV(env, o.Get("leafCount"), napi_int32_array, lc, "leafCount") ||
      !getArrV(env, o.Get("slotRow"), napi_int32_array, sr, "slotRow") ||
      !getArrV(env, o.Get("vectors"), napi_float32_array, vec, "vectors") ||
      !getArrV(env, o.Get("rowId"), napi_uint32_array, rid, "rowId"))
    return env.Undefined();
  if (v.d < 1 || v.pairs < 1 || v.leaves < 1 || cent.len < (size_t)v.leaves * v.d ||
      cb.len < (size_t)v.pairs * 2 * kCentres * kDpb || ls.len < (size_t)v.leaves || lc.len < (size_t)v.leaves)
    return throwErr(env, "indexScannCreate: inconsistent sizes");
  // Every leaf's slots must lie inside codes/slotRow, and every slot row inside vectors/rowId.
  const size_t slots = std::min(sr.len, codes.len / ((size_t)v.pairs * 32) * kGroup);
  const size_t rows = std::min(rid.len, vec.len / v.d);
  for (int l = 0; l < v.leaves; l++) {
    if (ls.p[l] < 0 || lc.p[l] < 0 || ls.p[l] % kGroup != 0 || (size_t)ls.p[l] + lc.p[l] > slots)
      return throwErr(env, "indexScannCreate: leaf " + std::to_string(l) + " lies outside the code arrays");
    for (int32_t s = ls.p[l]; s < ls.p[l] + lc.p[l]; s++)
      if (sr.p[s] >= (int32_t)rows) return throwErr(env, "indexScannCreate: slot row out of range");
  }
  // Blocks of kLeafBlock leaves, each [d, kLeafBlock] contiguous (zero-padded past the last leaf).
  const size_t blocks = (size_t)(v.leaves + kLeafBlock - 1) / kLeafBlock;
  h->centroidsT.assign(blocks * v.d * kLeafBlock, 0.f);
  for (int l = 0; l < v.leaves; l++)
    for (int j = 0; j < v.d; j++)
      h->centroidsT[((size_t)(l / kLeafBlock) * v.d + j) * kLeafBlock + l % kLeafBlock] = cent.p[(size_t)l * v.d + j];
  v.centroidsT = h->centroidsT.data();
  v.centroids = cent.p;
  if (cpuHasAvx2()) {
    h->centroidsH.resize(h->centroidsT.size());
    toHalf(h->centroidsT.data(), h->centroidsT.size(), h->centroidsH.data());
    v.centroidsH = h->centroidsH.data();
  }
  v.codebooks = cb.p;
  v.codes = codes.p;
  v.leafStart = ls.p;
  v.leafCount = lc.p;
  v.slotRow = sr.p;
  v.vectors = vec.p;
  v.rowId = rid.p;
  if (!std::getenv("REALM_INDEX_NO_HUGEPAGES")) {
    adviseHuge(codes.p, codes.len);
    adviseHuge(vec.p, vec.len * sizeof(float));
  }
  h->keep = Napi::Persistent(o);
  return Napi::External<ScannHandle>::New(env, h.release(), [](Napi::Env, ScannHandle* p) { delete p; });
}

// indexScannSearch(handle, queries: F32 [nq*d], nq, k, leavesToSearch, reorder, outIds: U32 [nq*k],
//                  outScores: F32 [nq*k]) -> undefined. Batches run on the thread pool, one query per task.
Napi::Value IndexScannSearch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsExternal()) return throwErr(env, "indexScannSearch: bad handle");
  const ScannView& v = info[0].As<Napi::External<ScannHandle>>().Data()->v;
  Arr<float> q, outS;
  Arr<uint32_t> outI;
  if (!getArr(info, 1, napi_float32_array, q, "queries")) return env.Undefined();
  const int64_t nq = (int64_t)info[2].As<Napi::Number>().Int64Value();
  const int k = info[3].As<Napi::Number>().Int32Value();
  const int nProbe = info[4].As<Napi::Number>().Int32Value();
  const int reorder = info[5].As<Napi::Number>().Int32Value();
  if (!getArr(info, 6, napi_uint32_array, outI, "outIds") || !getArr(info, 7, napi_float32_array, outS, "outScores"))
    return env.Undefined();
  if (k < 1 || nProbe < 1 || nq < 0 || q.len < (size_t)(nq * v.d) || outI.len < (size_t)(nq * k) ||
      outS.len < (size_t)(nq * k))
    return throwErr(env, "indexScannSearch: inconsistent sizes");
  auto one = isaLevel() ? avx2::scannSearchOne : scalar::scannSearchOne;
  if (nq == 1) {
    one(v, q.p, k, nProbe, reorder, outI.p, outS.p);
  } else {
    parallelFor(nq, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; i++) one(v, q.p + i * v.d, k, nProbe, reorder, outI.p + i * k, outS.p + i * k);
    });
  }
  return env.Undefined();
}

// indexTrimHeap() -> undefined: hands freed malloc memory back to the OS (glibc malloc_trim; a no-op elsewhere).
// ScannIndex.build frees ~100 MB of multi-MB temporaries (k-means, quantiser chunks); glibc's dynamic mmap
// threshold puts such blocks on the heap after the first free, and they stay resident until trimmed.
Napi::Value IndexTrimHeap(const Napi::CallbackInfo& info) {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
  return info.Env().Undefined();
}

// indexPinMmapThreshold(bytes) -> boolean: fixes glibc's mmap threshold at `bytes`, so that every larger malloc
// (V8 typed-array backing stores included) is a private mapping handed back to the OS when freed. glibc's default
// raises the threshold to the size of each freed mapping (up to 32 MB), after which multi-MB temporaries such as a
// ScannIndex build's k-means and quantiser buffers land on the heap and stay resident. Process-wide; skipped (false)
// when the user set MALLOC_MMAP_THRESHOLD_ (their choice wins) and on non-glibc systems.
Napi::Value IndexPinMmapThreshold(const Napi::CallbackInfo& info) {
  bool done = false;
#ifdef __GLIBC__
  const int64_t bytes = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int64Value() : 0;
  if (bytes > 0 && bytes <= (int64_t)1 << 30 && !std::getenv("MALLOC_MMAP_THRESHOLD_")) {
    done = mallopt(M_MMAP_THRESHOLD, (int)bytes) == 1;
  }
#endif
  return Napi::Boolean::New(info.Env(), done);
}

}  // namespace

REALM_EXPORT("indexIsa", IndexIsa);
REALM_EXPORT("indexTrimHeap", IndexTrimHeap);
REALM_EXPORT("indexPinMmapThreshold", IndexPinMmapThreshold);
REALM_EXPORT("indexLut16Scan", IndexLut16Scan);
REALM_EXPORT("indexFlatSearch", IndexFlatSearch);
REALM_EXPORT("indexScannCreate", IndexScannCreate);
REALM_EXPORT("indexScannSearch", IndexScannSearch);

}  // namespace idx
}  // namespace realm
