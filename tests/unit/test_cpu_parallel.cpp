// staticnet::cpu::thread_pool: every index runs exactly once, on the right
// thread's chunk, whether the waiting threads spin or sleep, with more threads
// than cores, nested calls, slow chunks and resizes.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <staticnet/cpu/parallel.hpp>

namespace {

using namespace std::chrono_literals;
using staticnet::cpu::thread_pool;

/// Runs pool.parallel_for over [begin, end) and checks that every index ran
/// once, in contiguous chunks, one per thread at most.
void check_cover(thread_pool& pool, int begin, int end) {
  const int n = std::max(0, end - begin);
  std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
  std::atomic<int> calls{0};
  pool.parallel_for(begin, end, [&](int b, int e) {
    ASSERT_LE(begin, b);
    ASSERT_LT(b, e);
    ASSERT_LE(e, end);
    ++calls;
    for (int i = b; i < e; ++i) ++hits[static_cast<std::size_t>(i - begin)];
  });
  for (int i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<std::size_t>(i)].load(), 1) << "index " << begin + i;
  EXPECT_EQ(calls.load(), std::min(n, pool.size()));
}

TEST(ThreadPool, EveryIndexOnceSpinningOrSleeping) {
  for (int threads : {1, 2, 3, 5}) {  // 3 and 5: more threads than this machine's cores
    thread_pool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (auto spin : {std::chrono::nanoseconds(0), std::chrono::nanoseconds(20us), thread_pool::default_spin}) {
      pool.set_spin(spin);
      EXPECT_EQ(pool.spin(), spin);
      for (int rep = 0; rep < 300; ++rep) check_cover(pool, rep % 7 - 2, rep % 7 - 2 + rep % 23);
    }
  }
}

TEST(ThreadPool, NegativeSpinMeansSleepAtOnce) {
  thread_pool pool(2);
  pool.set_spin(-5ns);
  EXPECT_EQ(pool.spin(), 0ns);
  check_cover(pool, 0, 10);
}

TEST(ThreadPool, WorkersThatFellAsleepWakeUp) {
  thread_pool pool(3);
  pool.set_spin(10us);
  for (int rep = 0; rep < 5; ++rep) {
    std::this_thread::sleep_for(2ms);  // far past the spin: every worker sleeps
    std::mutex m;
    std::set<std::thread::id> ids;
    pool.parallel_for(0, 3, [&](int, int) {
      std::lock_guard<std::mutex> lock(m);
      ids.insert(std::this_thread::get_id());
    });
    EXPECT_EQ(ids.size(), 3u);  // each chunk on its own thread
  }
}

TEST(ThreadPool, CallerSleepsThroughASlowChunk) {
  thread_pool pool(2);
  pool.set_spin(10us);  // the caller gives up spinning long before the worker is done
  std::atomic<int> done{0};
  pool.parallel_for(0, 2, [&](int b, int) {
    if (b == 1) std::this_thread::sleep_for(20ms);
    ++done;
  });
  EXPECT_EQ(done.load(), 2);
}

TEST(ThreadPool, NestedCallsRunOnTheCallingThread) {
  thread_pool pool(3);
  std::atomic<int> inner{0};
  pool.parallel_for(0, 3, [&](int, int) {
    const auto me = std::this_thread::get_id();
    pool.parallel_for(0, 10, [&](int b, int e) {
      EXPECT_EQ(std::this_thread::get_id(), me);
      EXPECT_EQ(b, 0);
      EXPECT_EQ(e, 10);
      inner += e - b;
    });
  });
  EXPECT_EQ(inner.load(), 30);
}

TEST(ThreadPool, ResizeAfterWork) {
  thread_pool pool(2);
  check_cover(pool, 0, 100);
  for (int threads : {4, 1, 3, 2}) {
    pool.resize(threads);
    EXPECT_EQ(pool.size(), threads);
    check_cover(pool, 0, 100);
  }
}

TEST(ThreadPool, DefaultPoolSettings) {
  const int saved = staticnet::cpu::num_threads();
  const auto saved_spin = staticnet::cpu::default_pool().spin();
  staticnet::cpu::set_num_threads(3);
  staticnet::cpu::set_spin(0ns);
  EXPECT_EQ(staticnet::cpu::num_threads(), 3);
  EXPECT_EQ(staticnet::cpu::spin(), 0ns);
  std::atomic<long long> sum{0};
  staticnet::cpu::parallel_for(0, 1000, [&](int b, int e) {
    for (int i = b; i < e; ++i) sum += i;
  });
  EXPECT_EQ(sum.load(), 999 * 1000 / 2);
  staticnet::cpu::set_num_threads(saved);
  staticnet::cpu::set_spin(saved_spin);
}

}  // namespace
