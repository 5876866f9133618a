// A small persistent thread pool shared by every native kernel (GEMM, element-wise ops, index build and search).
// parallelFor(n, grain, fn) splits [0, n) into chunks of >= grain items and runs fn(lo, hi) on the calling thread
// plus the pool's workers (chunks handed out dynamically; workers that wake after the caller ran out of chunks
// skip the job); it returns when every chunk is done. Idle workers spin for 100 us (pause loop) before sleeping on
// the condition variable, so back-to-back ops of a training step do not pay a futex wake-up each (OpenMP's
// OMP_WAIT_POLICY does the same, for longer). Nested calls run serially on the caller, and so
// does a call from a second thread while the pool is busy (e.g. two worker_threads using the addon at once).
#pragma once
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace realm {

class ThreadPool {
 public:
  static ThreadPool& instance() {
    static ThreadPool pool;
    return pool;
  }

  int threads() const { return nThreads_; }

  // Sets the total number of threads (caller included). n <= 0 means hardware_concurrency().
  void setThreads(int n) {
    if (n <= 0) n = (int)std::max(1u, std::thread::hardware_concurrency());
    if (n == nThreads_) return;
    while (busy_.exchange(true)) std::this_thread::yield();  // never resize under a running job
    stopWorkers();
    nThreads_ = n;
    startWorkers();
    busy_.store(false);
  }

  void parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    int64_t chunks = (n + grain - 1) / grain;
    if (nThreads_ <= 1 || chunks <= 1 || inParallel_ || busy_.exchange(true)) {
      fn(0, n);
      return;
    }
    // At most 4 chunks per thread for load balance, at least `grain` items each.
    int64_t maxChunks = (int64_t)nThreads_ * 4;
    if (chunks > maxChunks) chunks = maxChunks;
    int64_t step = (n + chunks - 1) / chunks;
    std::unique_lock<std::mutex> lk(mu_);
    job_ = &fn;
    jobN_ = n;
    jobStep_ = step;
    next_.store(0);
    ++generation_;
    lk.unlock();
    cv_.notify_all();
    inParallel_ = true;
    runChunks(&fn, n, step);
    inParallel_ = false;
    // Close the job to workers that have not joined yet (a worker that lost its core to another process would
    // otherwise make every parallel op wait for it to be scheduled just to find no work left); wait only for the
    // workers that joined and may still be running a chunk.
    lk.lock();
    job_ = nullptr;
    done_.wait(lk, [&] { return active_ == 0; });
    busy_.store(false);
  }

  ~ThreadPool() { stopWorkers(); }

 private:
  ThreadPool() {
    nThreads_ = (int)std::max(1u, std::thread::hardware_concurrency());
    startWorkers();
  }

  // Runs chunks of one job until none is left. The job is passed by value (read under mu_ when a worker joins):
  // the caller clears job_ as soon as every chunk has been handed out, while a worker that took the last chunks
  // may still be about to run them.
  void runChunks(const std::function<void(int64_t, int64_t)>* job, int64_t n, int64_t step) {
    for (;;) {
      int64_t lo = next_.fetch_add(step);
      if (lo >= n) break;
      int64_t hi = lo + step < n ? lo + step : n;
      (*job)(lo, hi);
    }
  }

  void startWorkers() {
    stop_ = false;
    const uint64_t start = generation_;  // new workers wait for the next job, not one that already ran
    for (int i = 1; i < nThreads_; i++) {
      workers_.emplace_back([this, start] {
        uint64_t seen = start;
        for (;;) {
          // Spin briefly before sleeping: a training step issues hundreds of short parallel ops back to back, and a
          // condition-variable wake-up costs tens of microseconds each time.
          const auto t0 = std::chrono::steady_clock::now();
          while (generation_.load(std::memory_order_acquire) == seen && !stop_.load(std::memory_order_relaxed) &&
                 std::chrono::steady_clock::now() - t0 < std::chrono::microseconds(kSpinMicros)) {
            for (int i = 0; i < 32; i++) cpuRelax();
          }
          std::unique_lock<std::mutex> lk(mu_);
          cv_.wait(lk, [&] { return stop_ || generation_ != seen; });
          if (stop_) return;
          seen = generation_;
          if (job_ == nullptr) continue;  // the caller already finished this job
          const auto* job = job_;
          const int64_t n = jobN_, step = jobStep_;
          ++active_;
          lk.unlock();
          inParallel_ = true;
          runChunks(job, n, step);
          inParallel_ = false;
          lk.lock();
          if (--active_ == 0) done_.notify_one();
        }
      });
    }
  }

  void stopWorkers() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  int nThreads_ = 1;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_, done_;
  // Written under mu_; atomic so idle workers can spin on them without the lock.
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> generation_{0};
  int active_ = 0;  // workers that joined the current job and may be running a chunk (guarded by mu_)
  const std::function<void(int64_t, int64_t)>* job_ = nullptr;
  int64_t jobN_ = 0, jobStep_ = 1;
  std::atomic<int64_t> next_{0};
  static constexpr int kSpinMicros = 100;
  static void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }
  std::atomic<bool> busy_{false};
  static thread_local bool inParallel_;
};

inline thread_local bool ThreadPool::inParallel_ = false;

inline void parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  ThreadPool::instance().parallelFor(n, grain, fn);
}

// parallelFor for element-wise kernels: runs fn(0, n) on the caller below 2^16 items (a pool hand-off costs more
// than it saves there), else in chunks of >= 2^14 items over the pool.
template <class F>
void forRange(int64_t n, const F& fn) {
  if (n <= 0) return;
  if (n < (1 << 16)) {
    fn(0, n);
    return;
  }
  parallelFor(n, 1 << 14, fn);
}

}  // namespace realm
