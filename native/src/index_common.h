// Shared declarations of the MIPS index kernels (src/index/): the read-only view of a ScannIndex that the search
// pipeline works on, per-thread scratch space, small heaps, and the per-ISA entry points that index_kernels_impl.h
// defines once per instruction set (scalar baseline and AVX2+FMA, picked at run time).
//
// Fast-scan code layout (Guo et al. 2020 §4 / faiss "fast scan"): 4-bit codes of 32 consecutive points are stored
// transposed per group: for group g and sub-quantiser pair p (sub-quantisers 2p and 2p+1), 32 bytes where byte j
// (0..15) = code[2p][point j] | code[2p][point j+16] << 4 and byte 16+j = the same for sub-quantiser 2p+1. The
// uint8 look-up table of a query uses the same pairing: 32 bytes per pair, LUT[2p][0..15] then LUT[2p+1][0..15],
// so one 256-bit vpshufb scores 16 points against two sub-quantisers at once.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <utility>
#include <vector>

namespace realm {
namespace idx {

constexpr int kGroup = 32;    // points per fast-scan group
constexpr int kCentres = 16;  // centres per sub-quantiser (4-bit codes)
constexpr int kDpb = 2;       // dimensions per sub-quantiser block
constexpr int kLeafBlock = 64;  // leaf centres per block of the handle's centre matrix

// Everything a ScannIndex search reads. Pointers refer to JS-owned typed arrays kept alive by the handle.
struct ScannView {
  int d = 0;                         // vector dimension
  int pairs = 0;                     // sub-quantiser pairs (= padded sub-quantisers / 2)
  int leaves = 0;                    // partitions
  const float* centroidsT = nullptr; // [ceil(leaves/64), d, 64] leaf centres, transposed per block of 64 leaves
                                     // (zero-padded; each block contiguous so it streams; owned by the handle)
  const uint16_t* centroidsH = nullptr; // the same in IEEE fp16 (AVX2 path: half the bytes to stream per query;
                                        // only ranks the leaves, the probed leaves are re-scored exactly)
  const float* centroids = nullptr;  // [leaves, d] float leaf centres (exact leaf scores of the probed leaves)
  const float* codebooks = nullptr;  // [2*pairs, 16, 2] residual codebooks
  const uint8_t* codes = nullptr;    // [slots/32, pairs, 32] packed codes
  const int32_t* leafStart = nullptr;  // [leaves] first slot of each leaf (multiple of 32)
  const int32_t* leafCount = nullptr;  // [leaves] points in each leaf
  const int32_t* slotRow = nullptr;    // [slots] row of the vector stored in a slot
  const float* vectors = nullptr;      // [rows, d] float vectors for exact re-ranking
  const uint32_t* rowId = nullptr;     // [rows] caller id of each row
};

// A bounded min-heap of (score, index): keeps the `cap` largest scores; ties keep the lower index. Hand-written
// sifts (std::push_heap with a function-pointer comparator compiled to an out-of-line call per compare).
struct TopK {
  std::vector<std::pair<float, int32_t>> h;
  size_t cap = 0;
  void reset(size_t c) {
    h.clear();
    if (h.capacity() < c) h.reserve(c);
    cap = c;
  }
  // a ranks below b: a belongs nearer the top of the min-heap (smaller score, or equal score and larger index).
  static inline bool below(const std::pair<float, int32_t>& a, const std::pair<float, int32_t>& b) {
    return a.first < b.first || (a.first == b.first && a.second > b.second);
  }
  bool full() const { return h.size() >= cap; }
  float min() const { return h.front().first; }
  void push(float s, int32_t i) {
    const std::pair<float, int32_t> e(s, i);
    if (h.size() < cap) {
      size_t j = h.size();
      h.push_back(e);
      while (j > 0) {
        const size_t p = (j - 1) >> 1;
        if (!below(e, h[p])) break;
        h[j] = h[p];
        j = p;
      }
      h[j] = e;
      return;
    }
    if (cap == 0 || !below(h[0], e)) return;
    const size_t n = h.size();
    size_t j = 0;
    for (;;) {
      const size_t l = 2 * j + 1;
      if (l >= n) break;
      size_t m = l;
      if (l + 1 < n && below(h[l + 1], h[l])) m = l + 1;
      if (!below(h[m], e)) break;
      h[j] = h[m];
      j = m;
    }
    h[j] = e;
  }
  // Sorted best first (score descending, index ascending on ties).
  void sorted(std::vector<std::pair<float, int32_t>>& out) const {
    out = h;
    std::sort(out.begin(), out.end(), [](const std::pair<float, int32_t>& a, const std::pair<float, int32_t>& b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    });
  }
};

// Order-preserving 64-bit key of (score, index): a larger key means a higher score, then a lower index, so plain
// integer selection (std::nth_element with std::greater<uint64_t>, no out-of-line comparator) ranks candidates.
inline uint64_t scoreKey(float s, uint32_t i) {
  uint32_t u;
  std::memcpy(&u, &s, 4);
  u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
  return ((uint64_t)u << 32) | (uint64_t)(0xFFFFFFFFu - i);
}
inline float keyScore(uint64_t key) {
  uint32_t u = (uint32_t)(key >> 32);
  u = (u & 0x80000000u) ? (u & 0x7FFFFFFFu) : ~u;
  float s;
  std::memcpy(&s, &u, 4);
  return s;
}
inline uint32_t keyIndex(uint64_t key) { return 0xFFFFFFFFu - (uint32_t)key; }
// Keeps the n largest keys of v (n <= v.size()) in v[0, n), unordered.
inline void keepTop(std::vector<uint64_t>& v, size_t n) {
  if (n < v.size()) std::nth_element(v.begin(), v.begin() + (n - 1), v.end(), std::greater<uint64_t>());
  v.resize(n);
}

// Per-thread scratch buffers for one query.
struct Scratch {
  std::vector<float> leafScore, lutF, leafExact;
  std::vector<int32_t> order;
  std::vector<uint8_t> lut8;
  TopK best, leafTop;
  std::vector<std::pair<float, int32_t>> sorted;
  std::vector<int32_t> rows;
  std::vector<uint64_t> res;   // candidate reservoir of the scan: scoreKey(approximate score, slot)
  std::vector<uint64_t> final; // re-ranked candidates: scoreKey(score, row)
};

inline Scratch& scratch() {
  // initial-exec TLS: a plain %fs-relative load instead of a __tls_get_addr call per query (the addon is loaded
  // once, at start-up of the process that uses it).
  static thread_local Scratch s __attribute__((tls_model("initial-exec")));
  return s;
}

// Entry points defined once per ISA namespace (scalar, avx2) by index_kernels_impl.h.
#define REALM_IDX_DECLARE(NS)                                                                                     \
  namespace NS {                                                                                                  \
  void lut16Groups(const uint8_t* codes, const uint8_t* lut, int pairs, int groups, uint16_t* acc);               \
  void scannSearchOne(const ScannView& v, const float* q, int k, int nProbe, int reorder, uint32_t* outIds,       \
                      float* outScores);                                                                          \
  }
REALM_IDX_DECLARE(scalar)
REALM_IDX_DECLARE(avx2)

// Exact top-k inner-product search (index_flat.cc): for each query, the k rows of db [nDb, d] with the largest
// queries[q] . db[r] (+ bias[r]); row indices (-1 past nDb) and scores, best first, ties by lower row.
void flatSearch(const float* db, int64_t nDb, int d, const float* bias, const float* queries, int64_t nq, int k,
                int32_t* outIdx, float* outScores);

// Selected instruction set: 0 = scalar, 1 = AVX2+FMA. Defaults to the best the CPU supports.
int& isaLevel();
bool cpuHasAvx2();

}  // namespace idx
}  // namespace realm
