// staticnet/data/loader.hpp: mini-batches of a dataset, prepared in the background.
//
//   data::batch_loader loader(train, 128, /*shuffle=*/true, /*drop_last=*/false, /*seed=*/1,
//                             data::normalize_transform(data::compute_channel_stats(train)),
//                             {.workers = 2});
//   data::batch b;                       // reuse it: the loader then allocates nothing per batch
//   for (int epoch = 0; epoch < epochs; ++epoch) {
//     loader.start_epoch(epoch);
//     while (loader.next(b)) { model.forward_backward(b.x, b.y, b.n); opt.step(model); }
//   }
//
// Reproducibility: epoch e's order is a permutation drawn from (seed, e) only
// (identity without shuffle), so resuming at epoch k reproduces it; sample i's
// transform gets an rng seeded from (seed, e, i), so augmentation does not
// depend on the number of workers, on prefetching or on thread timing. The
// permutation uses its own Fisher-Yates on std::mt19937_64 (whose output the
// standard fixes), so it is the same with every standard library.
//
// Threads: with prefetch (the default) a background thread prepares batch k+1
// while the caller trains on batch k (double buffering: next() swaps the ready
// buffer with the caller's batch). The preparing thread transforms the samples
// of a batch together with workers - 1 helper threads. Without prefetch, next()
// prepares the batch on the calling thread (with the same helpers). After the
// first two batches nothing is allocated per batch, provided the caller passes
// the same batch object each time. The destructor stops and joins every thread.
//
// Errors: an exception thrown by the transform is rethrown by the next() that
// would have returned that batch; that batch is skipped, and the following
// next() continues with the batch after it.
//
// The dataset must outlive the loader, and must not change while it is used.
#pragma once
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <mutex>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "dataset.hpp"
#include "transform.hpp"

namespace staticnet::data {

/// One mini-batch.
struct batch {
  std::vector<float> x;               ///< n x C x H x W
  std::vector<std::int32_t> y;        ///< n labels
  std::vector<std::int64_t> index;    ///< n dataset indices
  int n = 0;
};

inline void swap(batch& a, batch& b) noexcept {
  a.x.swap(b.x);
  a.y.swap(b.y);
  a.index.swap(b.index);
  std::swap(a.n, b.n);
}

struct loader_options {
  int workers = 1;        ///< threads that transform a batch's samples (>= 1)
  bool prefetch = true;   ///< prepare the next batch on a background thread
  /// Shape of the transform's output; 0 = the dataset's channels, height, width.
  int out_channels = 0, out_height = 0, out_width = 0;
};

/// splitmix64's finaliser: a bijective 64-bit mix.
constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// The seed of epoch `epoch`'s permutation.
constexpr std::uint64_t shuffle_seed(std::uint64_t seed, int epoch) noexcept {
  return mix64(mix64(seed ^ 0x53485546464C4531ull) ^ static_cast<std::uint64_t>(static_cast<std::int64_t>(epoch)));
}

/// The seed of the transform rng of dataset sample `index` in epoch `epoch`.
constexpr std::uint64_t sample_seed(std::uint64_t seed, int epoch, std::int64_t index) noexcept {
  return mix64(mix64(mix64(seed) ^ static_cast<std::uint64_t>(static_cast<std::int64_t>(epoch))) ^
               static_cast<std::uint64_t>(index));
}

/// Uniform in [0, bound) from 64-bit draws, without modulo bias (bound >= 1).
inline std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t bound) {
  const std::uint64_t threshold = (0 - bound) % bound;  // 2^64 mod bound
  for (;;) {
    const std::uint64_t r = rng();
    if (r >= threshold) return r % bound;
  }
}

/// Epoch `epoch`'s order of n samples (a Fisher-Yates shuffle), into out (reusing its capacity).
inline void epoch_permutation(std::size_t n, std::uint64_t seed, int epoch, std::vector<std::int64_t>& out) {
  out.resize(n);
  std::iota(out.begin(), out.end(), std::int64_t{0});
  std::mt19937_64 rng(shuffle_seed(seed, epoch));
  for (std::size_t i = n; i > 1; --i) std::swap(out[i - 1], out[uniform_below(rng, i)]);
}

inline std::vector<std::int64_t> epoch_permutation(std::size_t n, std::uint64_t seed, int epoch) {
  std::vector<std::int64_t> out;
  epoch_permutation(n, seed, epoch, out);
  return out;
}

class batch_loader {
 public:
  batch_loader(const dataset& d, int batch_size, bool shuffle, bool drop_last, std::uint64_t seed,
               sample_transform transform = to_float_transform(), loader_options options = {})
      : d_(&d),
        batch_size_(batch_size),
        shuffle_(shuffle),
        drop_last_(drop_last),
        seed_(seed),
        transform_(transform ? std::move(transform) : to_float_transform()),
        options_(options) {
    validate(d);
    if (batch_size < 1) throw std::invalid_argument("staticnet::data::batch_loader: batch_size must be >= 1");
    if (options_.workers < 1) throw std::invalid_argument("staticnet::data::batch_loader: workers must be >= 1");
    if (options_.out_channels < 0 || options_.out_height < 0 || options_.out_width < 0)
      throw std::invalid_argument("staticnet::data::batch_loader: negative output shape");
    if (d.images.shape()[0] > static_cast<std::size_t>(std::numeric_limits<int>::max()))
      throw std::invalid_argument("staticnet::data::batch_loader: more than INT_MAX samples");
    in_h_ = d.height();
    in_w_ = d.width();
    in_c_ = d.channels();
    out_c_ = options_.out_channels > 0 ? options_.out_channels : in_c_;
    out_h_ = options_.out_height > 0 ? options_.out_height : in_h_;
    out_w_ = options_.out_width > 0 ? options_.out_width : in_w_;
    out_size_ = static_cast<std::size_t>(out_c_) * static_cast<std::size_t>(out_h_) * static_cast<std::size_t>(out_w_);
    const int n = d.size();
    batches_ = drop_last_ ? n / batch_size_ : (n + batch_size_ - 1) / batch_size_;
    rngs_.resize(static_cast<std::size_t>(options_.workers));
    try {
      for (int t = 1; t < options_.workers; ++t) helpers_.emplace_back([this, t] { helper(t); });
      if (options_.prefetch) prefetcher_ = std::thread([this] { prefetch_loop(); });
    } catch (...) {
      shutdown();
      throw;
    }
  }
  /// The loader keeps a pointer to the dataset: it must not be a temporary.
  batch_loader(dataset&&, int, bool, bool, std::uint64_t, sample_transform = {}, loader_options = {}) = delete;
  batch_loader(const batch_loader&) = delete;
  batch_loader& operator=(const batch_loader&) = delete;
  ~batch_loader() { shutdown(); }

  /// Starts epoch `epoch` (any in-flight preparation is abandoned): its order is
  /// fixed by (seed, epoch); with prefetch, batch 0 starts being prepared now.
  void start_epoch(int epoch) {
    cancel_in_flight();
    epoch_ = epoch;
    started_ = true;
    cursor_ = 0;
    if (shuffle_) {
      epoch_permutation(static_cast<std::size_t>(d_->size()), seed_, epoch, order_);
    } else {
      order_.resize(static_cast<std::size_t>(d_->size()));
      std::iota(order_.begin(), order_.end(), std::int64_t{0});
    }
    if (options_.prefetch && batches_ > 0) submit(0);
  }

  /// The epoch's next batch into b (false, b untouched, when the epoch is over).
  /// The first call without start_epoch() starts epoch 0.
  bool next(batch& b) {
    if (!started_) start_epoch(0);
    if (cursor_ >= batches_) return false;
    const int k = cursor_++;
    if (!options_.prefetch) {
      prepare(k, b);
      return true;
    }
    std::exception_ptr error = wait_in_flight();
    if (!error) swap(b, buffer_);
    if (cursor_ < batches_) submit(cursor_);
    if (error) std::rethrow_exception(error);
    return true;
  }

  [[nodiscard]] int batches_per_epoch() const noexcept { return batches_; }
  /// Samples delivered per epoch.
  [[nodiscard]] int samples_per_epoch() const noexcept {
    return drop_last_ ? batches_ * batch_size_ : d_->size();
  }
  [[nodiscard]] int batch_size() const noexcept { return batch_size_; }
  [[nodiscard]] int epoch() const noexcept { return epoch_; }
  [[nodiscard]] int workers() const noexcept { return options_.workers; }
  /// The shape of one sample of batch::x: channels x height x width.
  [[nodiscard]] int channels() const noexcept { return out_c_; }
  [[nodiscard]] int height() const noexcept { return out_h_; }
  [[nodiscard]] int width() const noexcept { return out_w_; }
  [[nodiscard]] std::size_t sample_size() const noexcept { return out_size_; }
  [[nodiscard]] const dataset& data() const noexcept { return *d_; }

 private:
  // ----------------------------------------------------------- one batch --
  // Runs on the caller (no prefetch) or on the prefetch thread; reads order_
  // and epoch_, which the caller changes only while no preparation runs.
  void prepare(int k, batch& out) {
    const std::size_t first = static_cast<std::size_t>(k) * static_cast<std::size_t>(batch_size_);
    const int n = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(batch_size_), order_.size() - first));
    const auto nn = static_cast<std::size_t>(n);
    out.n = n;
    out.x.resize(nn * out_size_);
    out.y.resize(nn);
    out.index.resize(nn);
    const std::int32_t* labels = d_->labels.data();
    for (std::size_t i = 0; i < nn; ++i) {
      const std::int64_t idx = order_[first + i];
      out.index[i] = idx;
      out.y[i] = labels[idx];
    }
    {
      std::lock_guard<std::mutex> lock(pool_mutex_);
      job_out_ = &out;
      job_epoch_ = epoch_;
      job_n_ = n;
      job_next_.store(0, std::memory_order_relaxed);
      job_failed_.store(false, std::memory_order_relaxed);
      job_error_ = nullptr;
      pool_active_ = static_cast<int>(helpers_.size());
      ++pool_generation_;
    }
    if (!helpers_.empty()) pool_wake_.notify_all();
    work(0);
    std::exception_ptr error;
    {
      std::unique_lock<std::mutex> lock(pool_mutex_);
      pool_done_.wait(lock, [this] { return pool_active_ == 0; });
      error = std::exchange(job_error_, nullptr);
      job_out_ = nullptr;
    }
    if (error) std::rethrow_exception(error);
  }

  // Transforms samples of the current job until none is left (or one failed,
  // or the preparation was abandoned).
  void work(int slot) {
    std::mt19937_64& rng = rngs_[static_cast<std::size_t>(slot)];
    for (;;) {
      if (job_failed_.load(std::memory_order_relaxed) || cancel_.load(std::memory_order_relaxed)) return;
      const int i = job_next_.fetch_add(1, std::memory_order_relaxed);
      if (i >= job_n_) return;
      const std::int64_t idx = job_out_->index[static_cast<std::size_t>(i)];
      rng.seed(sample_seed(seed_, job_epoch_, idx));
      try {
        transform_(d_->image(static_cast<std::size_t>(idx)), in_h_, in_w_, in_c_,
                   job_out_->x.data() + static_cast<std::size_t>(i) * out_size_, rng);
      } catch (...) {
        std::lock_guard<std::mutex> lock(pool_mutex_);
        if (!job_error_) job_error_ = std::current_exception();
        job_failed_.store(true, std::memory_order_relaxed);
      }
    }
  }

  void helper(int slot) {
    std::uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(pool_mutex_);
    for (;;) {
      pool_wake_.wait(lock, [&] { return pool_stop_ || pool_generation_ != seen; });
      if (pool_stop_) return;
      seen = pool_generation_;
      lock.unlock();
      work(slot);
      lock.lock();
      if (--pool_active_ == 0) pool_done_.notify_all();
    }
  }

  // ------------------------------------------------------------ prefetch --
  void prefetch_loop() {
    std::unique_lock<std::mutex> lock(pf_mutex_);
    for (;;) {
      pf_wake_.wait(lock, [this] { return pf_stop_ || pf_request_; });
      if (pf_stop_) return;
      pf_request_ = false;
      const int k = pf_batch_;
      lock.unlock();
      std::exception_ptr error;
      try {
        prepare(k, buffer_);
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      pf_error_ = error;
      pf_done_ = true;
      pf_ready_.notify_all();
    }
  }

  void submit(int k) {
    {
      std::lock_guard<std::mutex> lock(pf_mutex_);
      pf_batch_ = k;
      pf_request_ = true;
      pf_done_ = false;
    }
    in_flight_ = true;
    pf_wake_.notify_one();
  }

  std::exception_ptr wait_in_flight() {
    if (!in_flight_) return nullptr;
    std::unique_lock<std::mutex> lock(pf_mutex_);
    pf_ready_.wait(lock, [this] { return pf_done_; });
    in_flight_ = false;
    return std::exchange(pf_error_, nullptr);
  }

  void cancel_in_flight() {
    if (!in_flight_) return;
    cancel_.store(true, std::memory_order_relaxed);
    (void)wait_in_flight();
    cancel_.store(false, std::memory_order_relaxed);
  }

  void shutdown() noexcept {
    cancel_.store(true, std::memory_order_relaxed);
    if (prefetcher_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(pf_mutex_);
        pf_stop_ = true;
      }
      pf_wake_.notify_all();
      prefetcher_.join();
    }
    {
      std::lock_guard<std::mutex> lock(pool_mutex_);
      pool_stop_ = true;
    }
    pool_wake_.notify_all();
    for (auto& t : helpers_)
      if (t.joinable()) t.join();
    helpers_.clear();
  }

  // configuration
  const dataset* d_;
  int batch_size_;
  bool shuffle_, drop_last_;
  std::uint64_t seed_;
  sample_transform transform_;
  loader_options options_;
  int in_h_ = 0, in_w_ = 0, in_c_ = 0, out_c_ = 0, out_h_ = 0, out_w_ = 0;
  std::size_t out_size_ = 0;
  int batches_ = 0;

  // epoch state (caller's thread)
  int epoch_ = 0;
  bool started_ = false;
  int cursor_ = 0;  // the next batch next() returns
  bool in_flight_ = false;
  std::vector<std::int64_t> order_;
  std::atomic<bool> cancel_{false};

  // the samples of one batch, shared by the preparing thread and the helpers
  std::vector<std::mt19937_64> rngs_;  // one per slot (0 = the preparing thread)
  std::mutex pool_mutex_;
  std::condition_variable pool_wake_, pool_done_;
  std::uint64_t pool_generation_ = 0;
  bool pool_stop_ = false;
  int pool_active_ = 0;
  batch* job_out_ = nullptr;
  int job_epoch_ = 0;
  int job_n_ = 0;
  std::atomic<int> job_next_{0};
  std::atomic<bool> job_failed_{false};
  std::exception_ptr job_error_;
  std::vector<std::thread> helpers_;

  // the prefetch thread and its buffer
  std::mutex pf_mutex_;
  std::condition_variable pf_wake_, pf_ready_;
  bool pf_stop_ = false, pf_request_ = false, pf_done_ = false;
  int pf_batch_ = 0;
  std::exception_ptr pf_error_;
  batch buffer_;
  std::thread prefetcher_;
};

}  // namespace staticnet::data
