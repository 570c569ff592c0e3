// staticnet/train/progress.hpp: a tqdm-like progress bar for training epochs.
//
// On a terminal it redraws one line in place:
//   epoch 3/20 [##########--------------]  160/391 loss 1.2345 acc 56.71% lr 0.01234 1234 img/s ETA 0:45
// Otherwise (a log file, CI) it prints a plain line every `every` batches and
// at the end, so logs stay readable.
#pragma once
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace staticnet {

struct progress_values {
  double loss = 0;      ///< running mean loss of the epoch
  double accuracy = 0;  ///< running accuracy of the epoch, in [0, 1]
  double lr = 0;
};

class progress_bar {
 public:
  /// `out` is the stream to draw on; `terminal` = -1 detects a TTY.
  progress_bar(int epoch, int epochs, int batches, int every = 50, std::FILE* out = stdout, int terminal = -1)
      : epoch_(epoch), epochs_(epochs), batches_(batches), every_(every > 0 ? every : 50), out_(out),
        start_(std::chrono::steady_clock::now()) {
    tty_ = terminal >= 0 ? terminal == 1 : isatty(fileno(out)) == 1;
  }

  /// Reports that `done` batches (of `images` images in total so far) are finished.
  void update(int done, long long images, const progress_values& v) {
    const double elapsed = seconds();
    const double rate = elapsed > 0 ? static_cast<double>(images) / elapsed : 0.0;
    const double eta = done > 0 ? elapsed * (batches_ - done) / done : 0.0;
    if (tty_) {
      const int width = 24;
      const int filled = batches_ > 0 ? width * done / batches_ : width;
      std::string bar(static_cast<std::size_t>(filled), '#');
      bar += std::string(static_cast<std::size_t>(width - filled), '-');
      std::fprintf(out_, "\repoch %d/%d [%s] %4d/%d loss %.4f acc %.2f%% lr %.5f %.0f img/s ETA %s ", epoch_,
                   epochs_, bar.c_str(), done, batches_, v.loss, 100.0 * v.accuracy, v.lr, rate,
                   clock(eta).c_str());
      if (done == batches_) std::fprintf(out_, "\n");
      std::fflush(out_);
    } else if (done == batches_ || done % every_ == 0) {
      std::fprintf(out_, "epoch %d/%d batch %d/%d loss %.4f acc %.2f%% lr %.5f %.0f img/s ETA %s\n", epoch_, epochs_,
                   done, batches_, v.loss, 100.0 * v.accuracy, v.lr, rate, clock(eta).c_str());
      std::fflush(out_);
    }
  }

  [[nodiscard]] double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  [[nodiscard]] bool terminal() const noexcept { return tty_; }

  static std::string clock(double s) {
    if (!(s >= 0)) s = 0;
    const long long t = static_cast<long long>(s + 0.5);
    char buf[32];
    if (t >= 3600)
      std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", t / 3600, t / 60 % 60, t % 60);
    else
      std::snprintf(buf, sizeof buf, "%lld:%02lld", t / 60, t % 60);
    return buf;
  }

 private:
  int epoch_, epochs_, batches_, every_;
  std::FILE* out_;
  bool tty_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace staticnet
