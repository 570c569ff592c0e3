// bench/timing.hpp: what the benchmark programs share to time calls and read
// their memory: the median of a sample, the median wall time of repeated
// calls, and the process's peak resident set size.
#pragma once
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <vector>

namespace timing {

/// The median (the mean of the middle two for an even count); v must not be empty.
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

/// The median wall time, in seconds, of max(1, calls) calls of f.
template <class F>
double median_seconds(int calls, F&& f) {
  std::vector<double> t;
  for (int i = 0; i < std::max(1, calls); ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return median(std::move(t));
}

/// This process's peak resident set size so far, in MB.
inline double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

}  // namespace timing
