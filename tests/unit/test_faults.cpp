// Faults around checkpoints (docs/reliability.md): a training run killed with
// SIGKILL at many points, half of them while a checkpoint is being written,
// always leaves a last.safetensors and best.safetensors that load; resuming
// reproduces the uninterrupted run bit for bit (parameters, log.jsonl) and the
// next start leaves no temporary file behind. A full disk (a file-size limit)
// and a read-only run directory give a clear error and keep the previous
// checkpoint.
//
// The training runs are child processes: this program re-executes itself
// with --fault-child (a fork of a process with a thread pool would not be
// safe), so the kills hit a real process in the middle of its writes.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <staticnet/cpu/model.hpp>
#include <staticnet/network.hpp>
#include <staticnet/layers/all.hpp>
#include <staticnet/train/checkpoint.hpp>
#include <staticnet/train/optim.hpp>
#include <staticnet/train/optimizer_state.hpp>
#include <staticnet/train/schedule.hpp>
#include <staticnet/train/trainer.hpp>

namespace sn = staticnet;
namespace fs = std::filesystem;
using sn::conv;

namespace {

// About 534k parameters: a checkpoint (with the momentum) is 4.3 MB, so a
// run spends most of its time writing and fsync-ing checkpoints.
using Net = sn::Network<sn::Input<1, 8, 8>, sn::Conv2d<conv{.out = 4, .kernel = 3, .padding = 1}>, sn::BatchNorm2d,
                        sn::ReLU, sn::Dropout<sn::p(0.1)>, sn::Flatten, sn::Linear<sn::linear{.out = 2048}>,
                        sn::ReLU, sn::Linear<sn::linear{.out = 4}>, sn::LogSoftmax>;
using M = sn::cpu::Model<Net, 8>;
constexpr int epochs = 6;

sn::data::dataset make_data(int n, unsigned seed) {
  sn::data::dataset d;
  d.images = sn::data::ndarray<std::uint8_t, 4>::from_shape({static_cast<std::size_t>(n), 8, 8, 1});
  d.labels = sn::data::ndarray<std::int32_t, 1>::from_shape({static_cast<std::size_t>(n)});
  d.classes = {"a", "b", "c", "d"};
  std::mt19937 rng(seed);
  for (int i = 0; i < n; ++i) {
    d.labels(static_cast<std::size_t>(i)) = i % 4;
    for (std::size_t y = 0; y < 8; ++y)
      for (std::size_t x = 0; x < 8; ++x)
        d.images(static_cast<std::size_t>(i), y, x, 0) =
            static_cast<std::uint8_t>((static_cast<int>(y / 4 * 2 + x / 4) == i % 4 ? 160 : 0) + rng() % 90);
  }
  return d;
}

/// The child: trains (resuming when there is a checkpoint) up to `epochs`.
/// Exit 0 when done, 3 (message on stderr) when fit throws.
int child_main(const fs::path& dir, int up_to, long long fsize_limit) {
  if (fsize_limit > 0) {
    ::signal(SIGXFSZ, SIG_IGN);  // writes past the limit fail with EFBIG instead of killing
    rlimit lim{static_cast<rlim_t>(fsize_limit), static_cast<rlim_t>(fsize_limit)};
    if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) return 4;
  }
  sn::cpu::set_num_threads(1);
  try {
    const sn::data::dataset train_set = make_data(16, 1), test_set = make_data(8, 2);
    sn::data::batch_loader train{train_set, 8, true, true, 7, sn::data::to_float_transform()};
    sn::data::batch_loader test{test_set, 8, false, false, 7, sn::data::to_float_transform()};
    auto model = std::make_unique<M>(3);
    sn::SGD opt(*model, {.lr = 0.05f, .momentum = 0.9f, .weight_decay = 5e-4f});
    sn::StepLR sched(opt, {.step_size = 2, .gamma = 0.5});
    std::FILE* sink = std::fopen("/dev/null", "w");
    (void)sn::fit(*model, opt, sched, train, test,
                  {.epochs = up_to, .output_dir = dir, .resume = true, .reports = false, .out = sink});
    std::fclose(sink);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 3;
  }
  return 0;
}

std::string self_exe() { return fs::read_symlink("/proc/self/exe").string(); }

/// Starts a child training run; its stderr goes to `err` (when given).
pid_t spawn(const fs::path& dir, int up_to, long long fsize_limit = 0, const fs::path& err = {}) {
  const std::string exe = self_exe(), d = dir.string(), e = std::to_string(up_to), l = std::to_string(fsize_limit);
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (!err.empty()) {
      const int fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) ::dup2(fd, 2);
    }
    ::execl(exe.c_str(), exe.c_str(), "--fault-child", d.c_str(), e.c_str(), l.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

std::vector<std::string> temporaries(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().filename().string().find(".tmp") != std::string::npos) out.push_back(entry.path().filename());
  return out;
}

struct loaded {
  std::vector<float> params;
  int epoch = 0;
};
loaded load(const fs::path& file) {
  auto model = std::make_unique<M>(0);
  const sn::checkpoint_info info = sn::load_checkpoint(file, *model);
  sn::SGD opt(*model, {.lr = 0.05f, .momentum = 0.9f, .weight_decay = 5e-4f});
  sn::restore_optimizer_state(info, *model, opt);  // the optimizer state is whole too
  const auto p = model->parameters();
  return {{p.begin(), p.end()}, info.number<int>("epoch").value_or(-1)};
}

std::vector<std::string> lines_of(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("staticnet_faults_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

}  // namespace

TEST(Faults, KilledRunsResumeToTheUninterruptedResult) {
  const fs::path ref = fresh_dir("ref");
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(wait_exit(spawn(ref, epochs)), 0);
  const double run_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const loaded want = load(ref / "last.safetensors");
  ASSERT_EQ(want.epoch, epochs);
  const auto want_log = lines_of(ref / "log.jsonl");
  ASSERT_EQ(want_log.size(), static_cast<std::size_t>(epochs));

  std::mt19937 rng(2026);
  int kills = 0, during_writes = 0;
  for (int trial = 0; trial < 8; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    const fs::path dir = fresh_dir("trial" + std::to_string(trial));
    for (int k = 0; k < 3; ++k) {
      const pid_t pid = spawn(dir, epochs);
      if ((trial + k) % 2 == 0) {
        // At a random time of the run.
        std::this_thread::sleep_for(std::chrono::duration<double>(std::uniform_real_distribution<double>(0, run_s)(rng)));
      } else {
        // While a checkpoint is being written: as soon as its temporary file
        // appears, after a random 0-1 ms more.
        const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(2 * run_s + 1);
        while (temporaries(dir).empty() && std::chrono::steady_clock::now() < until)
          std::this_thread::sleep_for(std::chrono::microseconds(50));
        std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 1000)(rng)));
      }
      ::kill(pid, SIGKILL);
      const int code = wait_exit(pid);
      if (code == 128 + SIGKILL) ++kills;
      during_writes += !temporaries(dir).empty();
      // Whatever the moment, the checkpoints on disk load whole.
      for (const char* name : {"last.safetensors", "best.safetensors"}) {
        if (fs::exists(dir / name)) {
          EXPECT_NO_THROW((void)load(dir / name)) << name << " after kill " << k;
        }
      }
    }
    // The next start cleans up and finishes the run as if never interrupted.
    ASSERT_EQ(wait_exit(spawn(dir, epochs)), 0);
    EXPECT_TRUE(temporaries(dir).empty()) << temporaries(dir).front();
    const loaded got = load(dir / "last.safetensors");
    EXPECT_EQ(got.epoch, epochs);
    EXPECT_TRUE(got.params == want.params) << "the resumed run's parameters differ from the uninterrupted run's";
    // The log: one whole line per epoch, in order, each with the uninterrupted run's losses.
    const auto log = lines_of(dir / "log.jsonl");
    ASSERT_EQ(log.size(), want_log.size());
    for (std::size_t i = 0; i < log.size(); ++i) {
      const std::string head = "{\"epoch\": " + std::to_string(i + 1) + ", ";
      EXPECT_EQ(log[i].rfind(head, 0), 0u) << log[i];
      // Up to "seconds" (timings differ), the line is the uninterrupted run's.
      EXPECT_EQ(log[i].substr(0, log[i].find("\"seconds\"")), want_log[i].substr(0, want_log[i].find("\"seconds\"")));
    }
    const loaded best = load(dir / "best.safetensors");
    EXPECT_GE(best.epoch, 1);
    fs::remove_all(dir);
  }
  std::printf("%d kills, %d of them during a checkpoint write (run: %.2f s)\n", kills, during_writes, run_s);
  EXPECT_GE(kills, 8);          // most children were still running when killed
  EXPECT_GE(during_writes, 3);  // and kills hit writes
  fs::remove_all(ref);
}

TEST(Faults, AFullDiskKeepsThePreviousCheckpoint) {
  const fs::path dir = fresh_dir("full");
  ASSERT_EQ(wait_exit(spawn(dir, 1)), 0);
  ASSERT_EQ(load(dir / "last.safetensors").epoch, 1);
  // Files may not grow past 1 MB (RLIMIT_FSIZE, as a full disk): the next
  // checkpoint (4.3 MB) cannot be written.
  const fs::path err = dir.parent_path() / (dir.filename().string() + ".stderr");
  EXPECT_EQ(wait_exit(spawn(dir, 2, 1 << 20, err)), 3);
  const auto msg = lines_of(err);
  ASSERT_FALSE(msg.empty());
  EXPECT_NE(msg[0].find("last.safetensors"), std::string::npos) << msg[0];
  EXPECT_NE(msg[0].find("File too large"), std::string::npos) << msg[0];
  EXPECT_EQ(load(dir / "last.safetensors").epoch, 1);  // the previous one, whole
  EXPECT_TRUE(temporaries(dir).empty());
  fs::remove_all(dir);
  fs::remove(err);
}

TEST(Faults, AReadOnlyRunDirectoryIsAClearError) {
  const fs::path dir = fresh_dir("ro");
  ASSERT_EQ(wait_exit(spawn(dir, 1)), 0);
  // Read-only: permissions for a normal user; for root (which they do not
  // stop), a read-only bind mount of the directory on itself.
  bool mounted = false;
  if (::geteuid() == 0) {
    if (::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr) != 0)
      GTEST_SKIP() << "running as root without the right to mount: cannot make a read-only directory";
    mounted = true;
    if (::mount(nullptr, dir.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0) {
      ::umount(dir.c_str());
      GTEST_SKIP() << "cannot remount read-only: " << std::strerror(errno);
    }
  } else {
    ::chmod(dir.c_str(), 0555);
  }
  const fs::path err = dir.parent_path() / (dir.filename().string() + ".stderr");
  const int code = wait_exit(spawn(dir, 2, 0, err));
  if (mounted) ::umount(dir.c_str());
  else ::chmod(dir.c_str(), 0755);
  EXPECT_EQ(code, 3);
  const auto msg = lines_of(err);
  ASSERT_FALSE(msg.empty());
  EXPECT_NE(msg[0].find(dir.string()), std::string::npos) << msg[0];
  EXPECT_TRUE(msg[0].find("Read-only file system") != std::string::npos ||
              msg[0].find("Permission denied") != std::string::npos)
      << msg[0];
  EXPECT_EQ(load(dir / "last.safetensors").epoch, 1);
  fs::remove_all(dir);
  fs::remove(err);
}

int main(int argc, char** argv) {
  if (argc == 5 && std::strcmp(argv[1], "--fault-child") == 0)
    return child_main(argv[2], std::atoi(argv[3]), std::atoll(argv[4]));
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
