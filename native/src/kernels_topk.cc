// Row-wise top-k (MIPS candidate selection, MLM predictions): largest first, ties broken by the lower index, NaN
// ranked below every number. k small relative to cols: a k-element heap with an 8-wide block prefilter against
// the current k-th value; k large: partial sort of an index array. Rows run in parallel over the pool.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "kernels.h"
#include "pool.h"

namespace realm {
namespace kernels {
namespace {

struct Cand {
  float key;  // score with NaN mapped to -inf
  int32_t idx;
};

// "a ranks before b": larger key, then lower index.
inline bool before(const Cand& a, const Cand& b) { return a.key > b.key || (a.key == b.key && a.idx < b.idx); }

inline float keyOf(float v) { return std::isnan(v) ? -INFINITY : v; }

void topkRowHeap(const float* s, int64_t cols, int64_t k, Cand* heap, int32_t* oi, float* ov) {
  // heap: max-heap under `before` => its front is the worst of the current best k.
  int64_t j = 0;
  for (; j < k; j++) heap[j] = {keyOf(s[j]), (int32_t)j};
  std::make_heap(heap, heap + k, before);
  float thr = heap[0].key;
  for (; j + 8 <= cols; j += 8) {
    float m = -INFINITY;  // NaN never wins a comparison, so it cannot hide a larger value
    for (int l = 0; l < 8; l++) m = s[j + l] > m ? s[j + l] : m;
    if (!(m > thr)) continue;  // later indices lose ties, so only strictly larger scores enter
    for (int l = 0; l < 8; l++) {
      const float v = s[j + l];
      if (v > thr) {
        std::pop_heap(heap, heap + k, before);
        heap[k - 1] = {v, (int32_t)(j + l)};
        std::push_heap(heap, heap + k, before);
        thr = heap[0].key;
      }
    }
  }
  for (; j < cols; j++) {
    const float v = s[j];
    if (v > thr) {
      std::pop_heap(heap, heap + k, before);
      heap[k - 1] = {v, (int32_t)j};
      std::push_heap(heap, heap + k, before);
      thr = heap[0].key;
    }
  }
  std::sort_heap(heap, heap + k, before);  // ascending under `before` = best first
  for (int64_t i = 0; i < k; i++) {
    oi[i] = heap[i].idx;
    ov[i] = s[heap[i].idx];
  }
}

void topkRowSort(const float* s, int64_t cols, int64_t k, Cand* buf, int32_t* oi, float* ov) {
  for (int64_t j = 0; j < cols; j++) buf[j] = {keyOf(s[j]), (int32_t)j};
  std::partial_sort(buf, buf + k, buf + cols, before);
  for (int64_t i = 0; i < k; i++) {
    oi[i] = buf[i].idx;
    ov[i] = s[buf[i].idx];
  }
}

}  // namespace

void topk(const float* scores, int64_t rows, int64_t cols, int64_t k, int32_t* outIdx, float* outVal) {
  if (rows <= 0 || k <= 0) return;
  const bool useHeap = k * 16 <= cols;
  auto body = [&](int64_t lo, int64_t hi) {
    std::vector<Cand> buf((size_t)(useHeap ? k : cols));
    for (int64_t r = lo; r < hi; r++) {
      const float* s = scores + r * cols;
      if (useHeap) topkRowHeap(s, cols, k, buf.data(), outIdx + r * k, outVal + r * k);
      else topkRowSort(s, cols, k, buf.data(), outIdx + r * k, outVal + r * k);
    }
  };
  if (rows * cols < (1 << 15) || rows == 1) body(0, rows);
  else parallelFor(rows, std::max<int64_t>(1, (1 << 13) / cols), body);
}

}  // namespace kernels
}  // namespace realm
