// staticnet/train/trainer.hpp: fit() — the training loop users write by hand in
// PyTorch (tqdm bar, test after every epoch, checkpoints, curves), for any
// engine (engine/engine.hpp: cpu::Model today).
//
//   sn::data::batch_loader train(train_set, 128, /*shuffle=*/true, /*drop_last=*/true, seed, pipeline);
//   sn::data::batch_loader test(test_set, 512, false, false, seed, sn::data::normalize_transform(stats));
//   sn::SGD opt(model, {.lr = 0.05f, .momentum = 0.9f, .weight_decay = 5e-4f});
//   sn::OneCycleLR sched(opt, {.max_lr = 0.05, .epochs = 20, .steps_per_epoch = train.batches_per_epoch()});
//   auto result = sn::fit(model, opt, sched, train, test, {.epochs = 20, .output_dir = "runs/s7"});
//
// Per epoch: a progress bar (batch i/N, loss, running accuracy, lr, images/s,
// ETA; plain lines every log_every batches when the output is not a
// terminal), a test evaluation (loss, accuracy, per-class accuracy), one JSON
// line appended to <output_dir>/log.jsonl, <output_dir>/last.safetensors and,
// when the test accuracy improves, best.safetensors (atomic writes). At the
// end: loss.png, accuracy.png, misclassified.png and confusion.png (when built
// with cairo: STATICNET_WITH_CAIRO), and the confusion matrix as text.
// resume = true continues from last.safetensors exactly as the uninterrupted
// run would have (model, BN statistics, optimizer, schedule, dropout state;
// the data order and augmentation are functions of (seed, epoch)).
// A NaN or infinite loss stops training with training_error; the last good
// checkpoint on disk is left untouched.
#pragma once
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../engine/engine.hpp"
#include "../io/json.hpp"
#include "../data/dataset.hpp"
#include "../data/loader.hpp"
#include "../report/confusion_text.hpp"
#include "../report/records.hpp"
#include "checkpoint.hpp"
#include "optimizer_state.hpp"
#include "progress.hpp"
#include "schedule.hpp"
#if STATICNET_WITH_CAIRO
#include "../report/confusion.hpp"
#include "../report/image_grid.hpp"
#include "../report/plot.hpp"
#endif

namespace staticnet {

/// Thrown when training cannot go on (a NaN loss); the message says why and
/// which checkpoint is the last good one.
struct training_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct fit_options {
  int epochs = 20;
  std::filesystem::path output_dir = "run";
  bool resume = false;        ///< continue from output_dir/last.safetensors when it exists
  float label_smoothing = 0;  ///< cross-entropy networks only (no final LogSoftmax)
  int log_every = 50;         ///< plain-text progress every N batches when not on a terminal
  int progress = -1;          ///< -1: bar on a terminal, plain lines otherwise; 0: plain; 1: bar
  bool reports = true;        ///< curves, misclassified grid and confusion matrix at the end
  int misclassified = 24;     ///< images in misclassified.png
  bool checkpoints = true;    ///< write last / best checkpoints
  std::FILE* out = stdout;
  /// Extra metadata written into every checkpoint (e.g. "data.mean" / "data.std",
  /// which sn::Predictor normalises its input with); keys "staticnet.*" are reserved.
  std::map<std::string, std::string> metadata = {};
};

/// One epoch's figures (also one line of log.jsonl).
struct epoch_result {
  int epoch = 0;
  double train_loss = 0, train_acc = 0, test_loss = 0, test_acc = 0, lr = 0;
  double seconds = 0, images_per_s = 0;
  std::vector<double> per_class_acc;
};

/// A test-set evaluation.
struct evaluation {
  double loss = 0, accuracy = 0;
  std::int64_t samples = 0;
  std::vector<double> per_class_acc;
  std::vector<std::vector<std::int64_t>> confusion;  ///< [true][predicted]
  std::vector<std::int64_t> wrong_index;               ///< dataset indices of misclassified samples
  std::vector<int> wrong_pred;
};

struct fit_result {
  std::vector<epoch_result> history;
  double best_accuracy = 0;
  int best_epoch = 0;
  evaluation last;
};

namespace trainer_detail {

template <class S>
inline constexpr bool per_batch_schedule = false;
template <class O>
inline constexpr bool per_batch_schedule<OneCycleLR<O>> = true;
template <class S>
inline constexpr bool plateau_schedule = false;
template <class O>
inline constexpr bool plateau_schedule<ReduceLROnPlateau<O>> = true;

}  // namespace trainer_detail

/// "No schedule": pass sn::no_schedule{} to fit (the learning rate stays as set).
struct no_schedule {};

namespace trainer_detail {

template <class S>
void save_schedule(checkpoint_extras& ex, const S& s) {
  if constexpr (!std::is_same_v<S, no_schedule>) {
    const auto st = s.state();
    if constexpr (requires { st.last_epoch; }) ex.set("schedule.last_epoch", st.last_epoch);
    if constexpr (requires { st.step_count; }) ex.set("schedule.step_count", st.step_count);
    if constexpr (requires { st.last_lr; }) ex.set("schedule.last_lr", st.last_lr);
    if constexpr (requires { st.last_momentum; }) ex.set("schedule.last_momentum", st.last_momentum);
    if constexpr (requires { st.base_lr; }) ex.set("schedule.base_lr", st.base_lr);
    if constexpr (requires { st.best; }) ex.set("schedule.best", st.best);
    if constexpr (requires { st.num_bad_epochs; }) ex.set("schedule.num_bad_epochs", st.num_bad_epochs);
    if constexpr (requires { st.cooldown_counter; }) ex.set("schedule.cooldown_counter", st.cooldown_counter);
  }
}

template <class T>
T need(const checkpoint_info& info, const char* key, const std::filesystem::path& path) {
  auto v = info.template number<T>(key);
  if (!v) throw std::runtime_error("staticnet: fit: checkpoint " + path.string() + " lacks \"" + key + "\"");
  return *v;
}

/// A counter restored from a checkpoint, in [lo, 2^53] (a real run counts far
/// less; a larger value would overflow at the next step).
template <class T>
T counter(const checkpoint_info& info, const char* key, const std::filesystem::path& path, T lo) {
  const T v = need<T>(info, key, path);
  if (v < lo || static_cast<double>(v) > 0x1p53)
    throw std::runtime_error("staticnet: fit: checkpoint " + path.string() + ": \"" + key + "\" = " +
                             std::to_string(v) + " is out of range");
  return v;
}
/// A learning rate or momentum restored from a checkpoint: finite and >= 0.
inline double rate(const checkpoint_info& info, const char* key, const std::filesystem::path& path) {
  const double v = need<double>(info, key, path);
  if (!(v >= 0.0) || !std::isfinite(v))
    throw std::runtime_error("staticnet: fit: checkpoint " + path.string() + ": \"" + key + "\" = " +
                             std::to_string(v) + " is not a finite value >= 0");
  return v;
}

template <class S>
void load_schedule(const checkpoint_info& info, S& s, const std::filesystem::path& path) {
  if constexpr (!std::is_same_v<S, no_schedule>) {
    auto st = s.state();
    using st_t = decltype(st);
    // Everything is read and checked before the schedule changes.
    if constexpr (requires { st.last_epoch; })
      st.last_epoch = counter<decltype(st_t::last_epoch)>(info, "schedule.last_epoch", path, -1);
    if constexpr (requires { st.step_count; })
      st.step_count = counter<decltype(st_t::step_count)>(info, "schedule.step_count", path, 0);
    if constexpr (requires { st.last_lr; }) st.last_lr = rate(info, "schedule.last_lr", path);
    if constexpr (requires { st.last_momentum; }) st.last_momentum = rate(info, "schedule.last_momentum", path);
    if constexpr (requires { st.base_lr; }) st.base_lr = rate(info, "schedule.base_lr", path);
    if constexpr (requires { st.best; }) {
      st.best = need<double>(info, "schedule.best", path);  // +-inf before the first epoch
      if (std::isnan(st.best))
        throw std::runtime_error("staticnet: fit: checkpoint " + path.string() + ": \"schedule.best\" is NaN");
    }
    if constexpr (requires { st.num_bad_epochs; })
      st.num_bad_epochs = counter<decltype(st_t::num_bad_epochs)>(info, "schedule.num_bad_epochs", path, 0);
    if constexpr (requires { st.cooldown_counter; })
      st.cooldown_counter = counter<decltype(st_t::cooldown_counter)>(info, "schedule.cooldown_counter", path, 0);
    s.load_state(st);
  }
}

inline std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

inline std::string json_line(const epoch_result& r) {
  std::ostringstream os;
  os << "{\"epoch\": " << r.epoch << ", \"train_loss\": " << json_number(r.train_loss)
     << ", \"train_acc\": " << json_number(r.train_acc) << ", \"test_loss\": " << json_number(r.test_loss)
     << ", \"test_acc\": " << json_number(r.test_acc) << ", \"lr\": " << json_number(r.lr)
     << ", \"seconds\": " << json_number(r.seconds) << ", \"images_per_s\": " << json_number(r.images_per_s)
     << ", \"per_class_acc\": [";
  for (std::size_t i = 0; i < r.per_class_acc.size(); ++i)
    os << (i ? ", " : "") << json_number(r.per_class_acc[i]);
  os << "]}";
  return os.str();
}

/// Reads back the epochs of a log.jsonl written by fit (for resumed runs' curves).
inline std::vector<epoch_result> read_log(const std::filesystem::path& path, int up_to_epoch) {
  // Each line is a JSON object written by fit(); one that does not parse (a
  // line cut short by a crash, or edited by hand), or whose "epoch" is not an
  // integer in [1, up_to_epoch], is skipped. Missing and null fields are NaN.
  std::vector<epoch_result> out;
  std::ifstream in(path);
  std::string line;
  auto number = [](const json::value& obj, std::string_view key) {
    const json::value* v = obj.get(key);
    if (!v || v->type != json::value::kind::number) return std::nan("");
    return std::strtod(v->text.c_str(), nullptr);
  };
  while (std::getline(in, line)) {
    json::value obj;
    try {
      obj = json::parser(line).parse_document();
    } catch (const json::error&) {
      continue;
    }
    if (obj.type != json::value::kind::object) continue;
    const double epoch = number(obj, "epoch");
    if (!(epoch >= 1 && epoch <= up_to_epoch) || epoch != std::floor(epoch)) continue;
    epoch_result r;
    r.epoch = static_cast<int>(epoch);
    r.train_loss = number(obj, "train_loss");
    r.train_acc = number(obj, "train_acc");
    r.test_loss = number(obj, "test_loss");
    r.test_acc = number(obj, "test_acc");
    r.lr = number(obj, "lr");
    r.seconds = number(obj, "seconds");
    r.images_per_s = number(obj, "images_per_s");
    out.erase(std::remove_if(out.begin(), out.end(), [&](const epoch_result& e) { return e.epoch == r.epoch; }),
              out.end());
    out.push_back(r);
  }
  return out;
}

/// A resumed run's log: keeps the lines of epochs 1..up_to_epoch (the last
/// line of each epoch; lines that do not parse, such as one cut short by a
/// kill, are dropped) and writes them back atomically (a temporary file
/// renamed over the log), so the epochs this run appends follow whole lines.
inline void trim_log(const std::filesystem::path& path, int up_to_epoch) {
  std::ifstream in(path);
  if (!in) return;
  std::vector<std::pair<int, std::string>> kept;
  std::string line;
  while (std::getline(in, line)) {
    json::value obj;
    try {
      obj = json::parser(line).parse_document();
    } catch (const json::error&) {
      continue;
    }
    const json::value* e = obj.type == json::value::kind::object ? obj.get("epoch") : nullptr;
    if (!e || e->type != json::value::kind::number) continue;
    const double epoch = std::strtod(e->text.c_str(), nullptr);
    if (!(epoch >= 1 && epoch <= up_to_epoch) || epoch != std::floor(epoch)) continue;
    const int k = static_cast<int>(epoch);
    kept.erase(std::remove_if(kept.begin(), kept.end(), [&](const auto& p) { return p.first == k; }), kept.end());
    kept.emplace_back(k, line);
  }
  in.close();
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (const auto& [k, l] : kept) out << l << '\n';
    out.flush();
    if (!out)
      throw std::runtime_error("staticnet: fit: cannot rewrite " + path.string() + " (via " + tmp.string() +
                               "): " + std::strerror(errno));
  }
  std::filesystem::rename(tmp, path);
}

/// Removes what a killed save left in a run directory: "<name>.tmp-<pid>" of
/// the checkpoints (safetensors::write's temporary files) and log.jsonl.tmp.
inline void remove_stale_temporaries(const std::filesystem::path& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    auto is_tmp_of = [&](std::string_view base) {
      const std::string prefix = std::string(base) + ".tmp-";
      if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return false;
      return std::all_of(name.begin() + static_cast<std::ptrdiff_t>(prefix.size()), name.end(),
                         [](char c) { return c >= '0' && c <= '9'; });
    };
    if (is_tmp_of("last.safetensors") || is_tmp_of("best.safetensors") || name == "log.jsonl.tmp")
      std::filesystem::remove(entry.path(), ec);
  }
}

/// "NaN" or "infinity", the first non-finite value of v and how many there are
/// ("" when every value is finite).
inline std::string non_finite_text(std::span<const float> v) {
  std::size_t first = v.size(), count = 0;
  for (std::size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i])) {
      if (first == v.size()) first = i;
      ++count;
    }
  if (!count) return {};
  return std::string(std::isnan(v[first]) ? "NaN" : "infinity") + " at [" + std::to_string(first) + "] (" +
         std::to_string(count) + " of " + std::to_string(v.size()) + " values not finite)";
}

/// Where a non-finite loss comes from: the first parameter holding NaN or
/// infinity (an update that exploded), else the first layer whose output in
/// the last forward does (activations that overflowed; engines with
/// layer_output(number)), else the first buffer (BatchNorm statistics, which
/// the forward itself updates from those activations). layers_first: look at
/// the outputs before the parameters (an engine whose step already applied
/// this step's update).
template <class M>
std::string locate_non_finite(M& model, bool layers_first = false) {
  engine_detail::sync_to_host(model);
  const std::vector<named_tensor> tensors = model.named_tensors();
  auto in_tensors = [&](bool trainable) -> std::string {
    for (const named_tensor& t : tensors)
      if (t.trainable == trainable)
        if (const std::string what = non_finite_text(t.data); !what.empty())
          return (trainable ? "parameter " : "buffer ") + t.name + " holds " + what;
    return {};
  };
  auto in_layers = [&]() -> std::string {
    if constexpr (requires { model.layer_output(1); }) {
      for (const plan_row& r : M::network_type::plan.rows) {
        if (!r.is_layer()) continue;
        const auto out = model.layer_output(r.number);
        if (const std::string what = non_finite_text({out.data(), out.size()}); !what.empty())
          return "the output of layer " + std::to_string(r.number) + " (" + std::string(kind_name(r.desc.kind)) +
                 "-" + std::to_string(r.number) + ") is the first to hold " + what;
      }
    }
    return {};
  };
  std::string where = layers_first ? in_layers() : in_tensors(true);
  if (where.empty()) where = layers_first ? in_tensors(true) : in_layers();
  if (where.empty()) where = in_tensors(false);
  return where;
}

/// Throws training_error naming the sample and element when a batch's input holds NaN or infinity.
inline void check_batch_input(const data::batch& b, std::size_t per_sample, const char* where) {
  for (std::size_t i = 0; i < b.x.size(); ++i)
    if (!std::isfinite(b.x[i])) {
      const std::size_t sample = i / per_sample;
      throw training_error(std::string("staticnet: ") + where + ": the input of dataset sample " +
                           std::to_string(sample < b.index.size() ? b.index[sample] : -1) + " holds " +
                           (std::isnan(b.x[i]) ? "NaN" : "infinity") + " at element " +
                           std::to_string(i % per_sample) +
                           " (the batch loader's transform produced it: a Normalize with std 0?)");
    }
}

template <class O>
double current_lr(const O& opt) {
  return static_cast<double>(opt.options.lr);
}

}  // namespace trainer_detail

/// Evaluates the model (eval mode) on every sample of a loader.
template <engine M>
evaluation evaluate(M& model, data::batch_loader& loader, float label_smoothing = 0) {
  constexpr int classes = static_cast<int>(M::output_numel);
  constexpr int MaxBatch = M::max_batch;
  const bool was_training = model.training();
  model.eval();
  evaluation ev;
  ev.confusion.assign(classes, std::vector<std::int64_t>(classes, 0));
  loader.start_epoch(0);
  data::batch b;
  double loss_sum = 0;
  std::int64_t correct = 0;
  while (loader.next(b)) {
    trainer_detail::check_batch_input(b, static_cast<std::size_t>(M::input_numel), "evaluate");
    for (int start = 0; start < b.n; start += MaxBatch) {
      const int n = std::min(MaxBatch, b.n - start);
      const std::size_t per = static_cast<std::size_t>(M::input_numel);
      auto out = model.forward({b.x.data() + static_cast<std::size_t>(start) * per, static_cast<std::size_t>(n) * per}, n);
      const std::span<const std::int32_t> targets(b.y.data() + start, static_cast<std::size_t>(n));
      for (auto t : targets)
        if (t < 0 || t >= classes)
          throw std::invalid_argument("staticnet: evaluate: label " + std::to_string(t) + " outside 0.." +
                                      std::to_string(classes - 1));
      loss_sum += static_cast<double>(model.loss(targets, M::ends_with_log_softmax ? 0.0f : label_smoothing)) * n;
      for (int i = 0; i < n; ++i) {
        const float* row = out.data() + static_cast<std::size_t>(i) * classes;
        const int pred = static_cast<int>(std::max_element(row, row + classes) - row);
        const int truth = targets[static_cast<std::size_t>(i)];
        ++ev.confusion[static_cast<std::size_t>(truth)][static_cast<std::size_t>(pred)];
        if (pred == truth) {
          ++correct;
        } else {
          ev.wrong_index.push_back(b.index[static_cast<std::size_t>(start + i)]);
          ev.wrong_pred.push_back(pred);
        }
      }
      ev.samples += n;
    }
  }
  ev.loss = ev.samples ? loss_sum / static_cast<double>(ev.samples) : 0;
  ev.accuracy = ev.samples ? static_cast<double>(correct) / static_cast<double>(ev.samples) : 0;
  for (int c = 0; c < classes; ++c) {
    std::int64_t total = 0;
    for (auto v : ev.confusion[static_cast<std::size_t>(c)]) total += v;
    ev.per_class_acc.push_back(total ? static_cast<double>(ev.confusion[static_cast<std::size_t>(c)][static_cast<std::size_t>(c)]) /
                                           static_cast<double>(total)
                                     : 0.0);
  }
  model.train(was_training);
  return ev;
}

/// Trains `model` for options.epochs epochs (see the file comment).
template <engine M, class Optimizer, class ScheduleRef>
fit_result fit(M& model, Optimizer& opt, ScheduleRef&& sched, data::batch_loader& train, data::batch_loader& test,
               const fit_options& o) {
  namespace td = trainer_detail;
  using Schedule = std::remove_cvref_t<ScheduleRef>;
  constexpr int MaxBatch = M::max_batch;
  constexpr int classes = static_cast<int>(M::output_numel);
  if (train.batch_size() > MaxBatch)
    throw std::invalid_argument("staticnet: fit: batch size " + std::to_string(train.batch_size()) +
                                " exceeds the Model's MaxBatch " + std::to_string(MaxBatch));
  if (train.sample_size() != static_cast<std::size_t>(M::input_numel) ||
      test.sample_size() != static_cast<std::size_t>(M::input_numel))
    throw std::invalid_argument("staticnet: fit: the loaders produce samples of " +
                                std::to_string(train.sample_size()) + " / " + std::to_string(test.sample_size()) +
                                " floats, the network takes " + std::to_string(M::input_numel));
  std::filesystem::create_directories(o.output_dir);
  td::remove_stale_temporaries(o.output_dir);  // a run killed while saving
  const auto last_path = o.output_dir / "last.safetensors";
  const auto best_path = o.output_dir / "best.safetensors";
  const auto log_path = o.output_dir / "log.jsonl";

  fit_result result;
  int first_epoch = 1;
  int saved_epoch = -1;  // the epoch of the checkpoint this run wrote or resumed from
  if (o.resume && std::filesystem::exists(last_path)) {
    const checkpoint_info info = load_checkpoint(last_path, model);
    restore_optimizer_state(info, model, opt);
    td::load_schedule(info, sched, last_path);
    const int done = td::need<int>(info, "epoch", last_path);
    result.best_accuracy = info.template number<double>("best_accuracy").value_or(0.0);
    result.best_epoch = info.template number<int>("best_epoch").value_or(0);
    result.history = td::read_log(log_path, done);
    td::trim_log(log_path, done);  // drop epochs after the checkpoint and a line cut short
    first_epoch = done + 1;
    saved_epoch = done;
    std::fprintf(o.out, "resumed from %s after epoch %d\n", last_path.string().c_str(), done);
  } else {
    std::ofstream(log_path, std::ios::trunc);  // a fresh run starts a fresh log
  }

  data::batch b;
  for (int epoch = first_epoch; epoch <= o.epochs; ++epoch) {
    model.train();
    train.start_epoch(epoch);
    const int batches = train.batches_per_epoch();
    progress_bar bar(epoch, o.epochs, batches, o.log_every, o.out, o.progress);
    double loss_sum = 0;
    std::int64_t seen = 0, correct = 0;
    int done = 0;
    while (train.next(b)) {
      const std::span<const std::int32_t> targets(b.y.data(), static_cast<std::size_t>(b.n));
      td::check_batch_input(b, static_cast<std::size_t>(M::input_numel), "fit");
      // A device engine runs the whole step, update included, as one CUDA graph.
      constexpr bool whole_step = requires { model.train_step(b.x, targets, b.n, opt, o.label_smoothing); };
      float loss = 0;
      if constexpr (whole_step)
        loss = model.train_step(b.x, targets, b.n, opt, o.label_smoothing);
      else
        loss = model.forward_backward(b.x, targets, b.n, o.label_smoothing);
      if (!std::isfinite(loss)) {
        const std::string last =
            saved_epoch >= 0 ? last_path.string() + " (epoch " + std::to_string(saved_epoch) + ")"
            : std::filesystem::exists(last_path) ? last_path.string() + " (written before this run)"
                                                 : std::string("none (no epoch finished)");
        const std::string where = td::locate_non_finite(model, whole_step);
        throw training_error("staticnet: fit: the training loss became " + std::string(std::isnan(loss) ? "NaN" : "infinite") +
                             " at epoch " + std::to_string(epoch) + ", batch " + std::to_string(done + 1) +
                             (where.empty() ? std::string() : ": " + where) +
                             "; training stopped (lower the learning rate?). The last good checkpoint is " + last);
      }
      if constexpr (!whole_step) opt.step(model);
      if constexpr (td::per_batch_schedule<Schedule>) sched.step();
      const float* out = model.output();
      for (int i = 0; i < b.n; ++i) {
        const float* row = out + static_cast<std::size_t>(i) * classes;
        correct += (std::max_element(row, row + classes) - row) == targets[static_cast<std::size_t>(i)];
      }
      loss_sum += static_cast<double>(loss) * b.n;
      seen += b.n;
      ++done;
      bar.update(done, seen, {loss_sum / static_cast<double>(seen), static_cast<double>(correct) / static_cast<double>(seen),
                              td::current_lr(opt)});
    }
    epoch_result r;
    r.epoch = epoch;
    r.seconds = bar.seconds();
    r.images_per_s = r.seconds > 0 ? static_cast<double>(seen) / r.seconds : 0;
    r.train_loss = seen ? loss_sum / static_cast<double>(seen) : 0;
    r.train_acc = seen ? static_cast<double>(correct) / static_cast<double>(seen) : 0;
    r.lr = td::current_lr(opt);
    result.last = evaluate(model, test, o.label_smoothing);
    r.test_loss = result.last.loss;
    r.test_acc = result.last.accuracy;
    r.per_class_acc = result.last.per_class_acc;
    if constexpr (!td::per_batch_schedule<Schedule> && !std::is_same_v<Schedule, no_schedule>) {
      if constexpr (td::plateau_schedule<Schedule>)
        sched.step(r.test_loss);
      else
        sched.step();
    }
    std::fprintf(o.out, "epoch %d/%d: train loss %.4f acc %.2f%% | test loss %.4f acc %.2f%% | %.1f s, %.0f img/s\n",
                 epoch, o.epochs, r.train_loss, 100 * r.train_acc, r.test_loss, 100 * r.test_acc, r.seconds,
                 r.images_per_s);
    const auto& names = test.data().classes;
    std::fprintf(o.out, "  per class:");
    for (int c = 0; c < classes; ++c)
      std::fprintf(o.out, " %s %.1f%%", c < static_cast<int>(names.size()) ? names[static_cast<std::size_t>(c)].c_str() : std::to_string(c).c_str(),
                   100 * r.per_class_acc[static_cast<std::size_t>(c)]);
    std::fprintf(o.out, "\n");
    std::fflush(o.out);
    result.history.push_back(r);
    {
      std::ofstream log(log_path, std::ios::app);
      log << td::json_line(r) << '\n';
      if (!log) throw std::runtime_error("staticnet: fit: cannot append to " + log_path.string() + ": " + std::strerror(errno));
    }
    const bool best = r.test_acc > result.best_accuracy || result.best_epoch == 0;
    if (best) result.best_accuracy = r.test_acc, result.best_epoch = epoch;
    if (o.checkpoints) {
      checkpoint_extras ex;
      add_optimizer_state(ex, model, opt);
      td::save_schedule(ex, sched);
      ex.set("epoch", epoch);
      ex.set("best_accuracy", result.best_accuracy);
      ex.set("best_epoch", result.best_epoch);
      ex.set("test_accuracy", r.test_acc);
      for (const auto& [key, value] : o.metadata) ex.set(key, value);
      // best before last: a run killed between the two resumes from the
      // previous epoch and writes this best again (the other order could
      // leave a last that names an epoch as best whose weights were never saved).
      if (best) save_checkpoint(best_path, model, ex);
      save_checkpoint(last_path, model, ex);
      saved_epoch = epoch;
    }
  }

  if (o.reports && !result.history.empty()) {
    const data::dataset& d = test.data();
    auto name = [&](int c) {
      return c < static_cast<int>(d.classes.size()) ? d.classes[static_cast<std::size_t>(c)] : std::to_string(c);
    };
    std::vector<std::string> class_names;
    for (int c = 0; c < classes; ++c) class_names.push_back(name(c));
#if STATICNET_WITH_CAIRO
    std::vector<report::epoch_record> recs;
    for (const auto& r : result.history)
      recs.push_back({r.epoch, r.train_loss, r.train_acc, r.test_loss, r.test_acc, r.lr});
    report::training_curves(o.output_dir, recs);
    std::vector<report::labelled_image> imgs;
    for (std::size_t k = 0; k < result.last.wrong_index.size() && static_cast<int>(k) < o.misclassified; ++k) {
      const std::int64_t i = result.last.wrong_index[k];
      report::labelled_image li;
      li.h = d.height(), li.w = d.width(), li.c = d.channels();
      const std::uint8_t* p = d.image(static_cast<std::size_t>(i));
      li.hwc.assign(p, p + static_cast<std::size_t>(li.h) * li.w * li.c);
      li.caption = "true: " + name(d.labels(static_cast<std::size_t>(i))) + " / pred: " + name(result.last.wrong_pred[k]);
      imgs.push_back(std::move(li));
    }
    report::image_grid(o.output_dir / "misclassified.png", imgs, 6, d.height() <= 32 ? 3 : 2);
    report::confusion_matrix(o.output_dir / "confusion.png", result.last.confusion, class_names);
#endif
    std::fprintf(o.out, "%s", report::confusion_matrix_text(result.last.confusion, class_names).c_str());
#if STATICNET_WITH_CAIRO
    std::fprintf(o.out, "reports written to %s (loss.png, accuracy.png, misclassified.png, confusion.png, log.jsonl)\n",
                 o.output_dir.string().c_str());
#else
    std::fprintf(o.out, "log written to %s/log.jsonl (PNG reports skipped: staticnet was built without cairo)\n",
                 o.output_dir.string().c_str());
#endif
  }
  return result;
}

}  // namespace staticnet
