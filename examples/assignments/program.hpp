// The command line shared by the assignment programs: print the summary, train
// on CIFAR-10 with the exercise's augmentations and a OneCycle schedule, or
// evaluate a saved checkpoint.
//
//   return assignments::run_programs(argc, argv, augmentation::s7,
//                                    assignments::entry<Net>{"name", "title"}, ...);
// The first entry is trained unless --network NAME picks another.
#pragma once
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <staticnet/staticnet.hpp>
#if STATICNET_WITH_CUDA
#include <staticnet/cuda/model.hpp>
#endif

namespace assignments {

namespace sn = staticnet;
namespace fs = std::filesystem;

/// Which augmentations an exercise prescribes (albumentations names).
enum class augmentation {
  s9,        ///< HorizontalFlip, ShiftScaleRotate, CoarseDropout (one 16x16 hole of the mean)
  s7,        ///< as s9, plus ToGray
  standard,  ///< the exercise names none: PadIfNeeded(40) + RandomCrop(32) + HorizontalFlip
};

struct options {
  bool summary = false;
  bool torchsummary = false;
  bool torchinfo = false;
  std::string network;
  fs::path data = "data/cifar-10-batches-bin";
  std::vector<fs::path> train_files, test_files;
  int epochs = 24;
  int batch_size = 128;
  double max_lr = 0.05;
  double weight_decay = 5e-4;
  std::uint64_t seed = 1;
  fs::path out;
  int threads = 0;
  int workers = 1;
  bool resume = false;
  std::optional<fs::path> evaluate;
  std::optional<fs::path> augment_grid;
  std::optional<fs::path> export_pytorch;
  int progress = -1;
  std::string device = "cpu";
};

/// The largest batch each engine is planned for (cpu::Model<Net, 128>, cuda::Model<Net, 512>).
inline int max_batch_for(const std::string& device) { return device == "cuda" ? 512 : 128; }

inline void usage(std::string_view program, std::ostream& os) {
  os << "usage: " << program << " [options]\n"
     << "  --summary            print the model summary and receptive-field table, then exit\n"
     << "  --torchsummary       print what torchsummary prints for the network's PyTorch module, then exit\n"
     << "  --torchinfo          print what torchinfo prints for it (both: --network NAME, default the first)\n"
     << "  --network NAME       which of the program's networks to train (default: the first)\n"
     << "  --data DIR           CIFAR-10 binary directory (data_batch_1..5.bin, test_batch.bin);\n"
     << "                       without test_batch.bin the last data batch is held out for testing\n"
     << "  --train-files F,...  explicit training batch files (overrides --data)\n"
     << "  --test-files F,...   explicit test batch files\n"
     << "  --epochs N           (24)       --batch-size N (128; at most 128 on the CPU, 512 on the GPU)\n"
     << "  --max-lr X           OneCycle peak learning rate (0.05)\n"
     << "  --weight-decay X     SGD weight decay (5e-4)\n"
     << "  --seed N             (1)        --threads N (all cores)   --workers N (augmentation threads, 1)\n"
     << "  --out DIR            run directory: checkpoints, log.jsonl, PNG reports (runs/<network>)\n"
     << "  --resume             continue from DIR/last.safetensors\n"
     << "  --evaluate CKPT      evaluate a checkpoint on the test set and exit\n"
     << "  --device cpu|cuda    the engine (cpu; cuda needs a build with the CUDA engine and a GPU)\n"
     << "  --plain              plain progress lines instead of a progress bar\n"
     << "  --augment-grid PNG   write a grid of 32 augmented training samples and exit\n"
     << "  --export-pytorch PY  write the network's PyTorch module (--network NAME, default the first;\n"
     << "                       its state_dict names are the checkpoints'), then exit\n";
}

/// Parses argv; returns the exit code to return now (0 for --help, 2 for a
/// bad option), or nothing to go on.
inline std::optional<int> parse(int argc, char** argv, options& o) {
  auto split = [](std::string_view s) {
    std::vector<fs::path> out;
    while (!s.empty()) {
      const auto comma = s.find(',');
      out.emplace_back(std::string(s.substr(0, comma)));
      if (comma == std::string_view::npos) break;
      s.remove_prefix(comma + 1);
    }
    return out;
  };
  // Numbers must be whole: "12abc" or "-1" for a seed are errors, not 12 or 2^64 - 1.
  auto whole = [](const std::string& v, auto x, const char* what) {
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
    if (ec != std::errc() || end != v.data() + v.size() || v.empty())
      throw std::invalid_argument("'" + v + "' is not " + what);
    return x;
  };
  auto integer = [&](const std::string& v) { return whole(v, int{}, "an integer"); };
  auto unsigned64 = [&](const std::string& v) { return whole(v, std::uint64_t{}, "a non-negative integer"); };
  auto real = [](const std::string& v) {
    std::size_t used = 0;
    const double x = std::stod(v, &used);
    if (used != v.size()) throw std::invalid_argument("'" + v + "' is not a number");
    return x;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(std::string(a) + " needs a value");
      return argv[++i];
    };
    try {
      if (a == "--help" || a == "-h") {
        usage(argv[0], std::cout);
        return 0;
      } else if (a == "--summary") o.summary = true;
      else if (a == "--torchsummary") o.torchsummary = true;
      else if (a == "--torchinfo") o.torchinfo = true;
      else if (a == "--network") o.network = value();
      else if (a == "--data") o.data = value();
      else if (a == "--train-files") o.train_files = split(value());
      else if (a == "--test-files") o.test_files = split(value());
      else if (a == "--epochs") o.epochs = integer(value());
      else if (a == "--batch-size") o.batch_size = integer(value());
      else if (a == "--max-lr") o.max_lr = real(value());
      else if (a == "--weight-decay") o.weight_decay = real(value());
      else if (a == "--seed") o.seed = unsigned64(value());
      else if (a == "--out") o.out = value();
      else if (a == "--threads") o.threads = integer(value());
      else if (a == "--workers") o.workers = integer(value());
      else if (a == "--resume") o.resume = true;
      else if (a == "--evaluate") o.evaluate = fs::path(value());
      else if (a == "--plain") o.progress = 0;
      else if (a == "--augment-grid") o.augment_grid = fs::path(value());
      else if (a == "--export-pytorch") o.export_pytorch = fs::path(value());
      else if (a == "--device") {
        o.device = value();
        if (o.device != "cpu" && o.device != "cuda") throw std::invalid_argument("'" + o.device + "' is not cpu or cuda");
      }
      else {
        std::cerr << argv[0] << ": unknown option '" << a << "'\n";
        usage(argv[0], std::cerr);
        return 2;
      }
    } catch (const std::exception& e) {
      std::cerr << argv[0] << ": bad value for " << a << ": " << e.what() << "\n";
      return 2;
    }
  }
  if (o.epochs < 1 || o.batch_size < 1 || o.batch_size > max_batch_for(o.device) || !(o.max_lr > 0) || !std::isfinite(o.max_lr) ||
      o.workers < 1 || o.workers > 256 || o.threads < 0 || o.threads > 1024 || !(o.weight_decay >= 0) ||
      !std::isfinite(o.weight_decay)) {
    std::cerr << argv[0] << ": --epochs must be >= 1, --batch-size in 1.." << max_batch_for(o.device)
              << " (--device " << o.device << "), --max-lr finite > 0, "
              << "--weight-decay finite >= 0, --workers in 1..256, --threads in 0..1024\n";
    return 2;
  }
  return std::nullopt;
}

/// The training and test sets: --train-files/--test-files, or --data in the
/// standard layout; a directory without test_batch.bin (such as the 5-file
/// sample) holds out its last data batch as the test set.
inline std::pair<sn::data::dataset, sn::data::dataset> load_cifar(const options& o) {
  if (!o.train_files.empty()) {
    if (o.test_files.empty()) throw std::invalid_argument("--train-files needs --test-files too");
    return {sn::data::load_cifar10_files(o.train_files), sn::data::load_cifar10_files(o.test_files)};
  }
  if (fs::exists(o.data / "test_batch.bin") || fs::exists(o.data / "cifar-10-batches-bin" / "test_batch.bin"))
    return {sn::data::load_cifar10(o.data, sn::data::split::train), sn::data::load_cifar10(o.data, sn::data::split::test)};
  std::vector<fs::path> batches;
  for (int b = 1; b <= 5; ++b)
    if (fs::exists(o.data / ("data_batch_" + std::to_string(b) + ".bin")))
      batches.push_back(o.data / ("data_batch_" + std::to_string(b) + ".bin"));
  if (batches.size() < 2)
    throw std::runtime_error("no CIFAR-10 data in " + o.data.string() +
                             " (expected data_batch_*.bin and test_batch.bin; see --help)");
  const fs::path held_out = batches.back();
  batches.pop_back();
  std::cout << "no test_batch.bin in " << o.data.string() << ": holding out " << held_out.filename().string()
            << " as the test set\n";
  std::vector<std::string> classes;
  if (fs::exists(o.data / "batches.meta.txt")) classes = sn::data::read_class_names(o.data / "batches.meta.txt");
  return {sn::data::load_cifar10_files(batches, classes), sn::data::load_cifar10_files({held_out}, classes)};
}

/// Calls `use` with the exercise's augmentation pipeline, ending with `last` (Normalize).
template <class Last, class Use>
auto with_pipeline(augmentation kind, const sn::data::channel_stats& st, const Last& last, Use&& use) {
  namespace aug = sn::augment;
  const double m0 = 255 * st.mean[0], m1 = 255 * st.mean[1], m2 = 255 * st.mean[2];
  const aug::CoarseDropout hole{.max_holes = 1, .max_height = 16, .max_width = 16, .min_holes = 1,
                                .min_height = 16, .min_width = 16, .fill_value = {m0, m1, m2}, .p = 0.5};
  const aug::ShiftScaleRotate ssr{.shift_limit = 0.0625, .scale_limit = 0.1, .rotate_limit = 15, .p = 0.5};
  switch (kind) {
    case augmentation::s9: return use(aug::Compose{aug::HorizontalFlip{}, ssr, hole, last});
    case augmentation::s7: return use(aug::Compose{aug::HorizontalFlip{}, ssr, hole, aug::ToGray{.p = 0.1}, last});
    case augmentation::standard:
    default:
      return use(aug::Compose{aug::PadIfNeeded{.min_height = 40, .min_width = 40, .border_mode = aug::BORDER_REFLECT_101},
                              aug::RandomCrop{.height = 32, .width = 32}, aug::HorizontalFlip{}, last});
  }
}

inline sn::data::sample_transform train_pipeline(augmentation kind, const sn::data::channel_stats& st) {
  namespace aug = sn::augment;
  const aug::Normalize norm{.mean = {st.mean[0], st.mean[1], st.mean[2]}, .std = {st.std[0], st.std[1], st.std[2]},
                            .max_pixel_value = 255.0};
  return with_pipeline(kind, st, norm, [](auto pipeline) { return sn::data::sample_transform(pipeline); });
}

/// Writes a PNG grid of `count` augmented training samples (as the model sees them, before Normalize).
inline void write_augmented_grid(augmentation kind, const sn::data::channel_stats& st, const sn::data::dataset& d,
                                 const fs::path& png, std::uint64_t seed, int count = 32) {
  namespace aug = sn::augment;
  std::vector<sn::report::labelled_image> cells;
  std::mt19937_64 rng(seed);
  const aug::Normalize norm{.mean = {st.mean[0], st.mean[1], st.mean[2]}, .std = {st.std[0], st.std[1], st.std[2]},
                            .max_pixel_value = 255.0};
  with_pipeline(kind, st, norm, [&](auto pipeline) {  // apply() stops before Normalize
    for (int i = 0; i < count && i < d.size(); ++i) {
      aug::image in(d.height(), d.width(), d.channels());
      const std::uint8_t* p = d.image(static_cast<std::size_t>(i));
      std::copy(p, p + in.data.size(), in.data.begin());
      const aug::image out = pipeline.apply(in, rng);
      cells.push_back({out.data, out.height, out.width, out.channels,
                       d.classes.empty() ? std::string() : d.classes[static_cast<std::size_t>(d.labels(static_cast<std::size_t>(i)))]});
    }
    return 0;
  });
#if STATICNET_WITH_CAIRO
  sn::report::image_grid(png, cells, 8, 3);
#else
  throw std::runtime_error("--augment-grid " + png.string() + ": PNG output needs staticnet built with cairo");
#endif
}

template <sn::network Net>
struct entry {
  std::string_view name;
  std::string_view title;
};

/// Trains (or evaluates) Net with the engine M (cpu::Model or cuda::Model).
template <class M>
int train_with(const options& o, std::string_view name, augmentation kind) {
  using Net = typename M::network_type;
  if (o.threads > 0) sn::cpu::set_num_threads(o.threads);
  auto [train_set, test_set] = load_cifar(o);
  const sn::data::channel_stats st = sn::data::compute_channel_stats(train_set);
  std::cout << "train " << train_set.size() << " images, test " << test_set.size() << " images; mean ("
            << st.mean[0] << ", " << st.mean[1] << ", " << st.mean[2] << "), std (" << st.std[0] << ", "
            << st.std[1] << ", " << st.std[2] << ")\n";
  if (o.augment_grid) {
    write_augmented_grid(kind, st, train_set, *o.augment_grid, o.seed);
    std::cout << "wrote " << o.augment_grid->string() << "\n";
    return 0;
  }
  sn::data::batch_loader test(test_set, 128, false, false, o.seed, sn::data::normalize_transform(st));
  auto model = std::make_unique<M>(o.seed);
  if (o.evaluate) {
    sn::load_checkpoint(*o.evaluate, *model);
    const sn::evaluation ev = sn::evaluate(*model, test);
    std::cout << "checkpoint " << o.evaluate->string() << ": test loss " << ev.loss << ", accuracy "
              << 100 * ev.accuracy << "% on " << ev.samples << " images\n";
    std::vector<std::string> names(test_set.classes.begin(), test_set.classes.end());
    std::cout << sn::report::confusion_matrix_text(ev.confusion, names);
    return 0;
  }
  sn::data::batch_loader train(train_set, o.batch_size, true, true, o.seed, train_pipeline(kind, st),
                               {.workers = o.workers});
  sn::SGD opt(*model, {.lr = static_cast<float>(o.max_lr / 25), .momentum = 0.9f,
                       .weight_decay = static_cast<float>(o.weight_decay)});
  sn::OneCycleLR sched(opt, {.max_lr = o.max_lr, .epochs = o.epochs, .steps_per_epoch = train.batches_per_epoch()});
  const fs::path out = o.out.empty() ? fs::path("runs") / std::string(name) : o.out;
  std::cout << "training " << name << " (" << sn::param_count<Net> << " parameters) for " << o.epochs
            << " epochs, batch " << o.batch_size << ", OneCycle max lr " << o.max_lr << ", on "
            << (o.device == "cuda" ? std::string("the GPU") : std::to_string(sn::cpu::num_threads()) + " CPU threads")
            << "; output in " << out.string() << "\n";
  const sn::fit_result r = sn::fit(*model, opt, sched, train, test,
                                   {.epochs = o.epochs, .output_dir = out, .resume = o.resume, .progress = o.progress,
                                    // what sn::Predictor normalises its pixels with
                                    .metadata = {{"data.mean", sn::channel_list_text(st.mean)},
                                                 {"data.std", sn::channel_list_text(st.std)}}});
  std::cout << "best test accuracy " << 100 * r.best_accuracy << "% (epoch " << r.best_epoch << ")\n";
  return 0;
}

template <sn::network Net>
int train_network(const options& o, std::string_view name, augmentation kind) {
  if (o.device == "cuda") {
#if STATICNET_WITH_CUDA
    return train_with<sn::cuda::Model<Net, 512>>(o, name, kind);
#else
    throw std::runtime_error("--device cuda: this program was built without the CUDA engine "
                             "(configure with nvcc and cuDNN found, or -DSTATICNET_CUDA=ON)");
#endif
  }
  return train_with<sn::cpu::Model<Net, 128>>(o, name, kind);
}

/// Prints one network's title, summary and RF table.
template <sn::network Net>
void print_network(std::ostream& os, std::string_view title) {
  os << title << "\n";
  sn::print_summary<Net>(os);
  sn::print_receptive_field<Net>(os);
  os << sn::activation_memory_line<Net>() << "\n";
}

/// "s7_dilated" -> "S7Dilated": the class name of a network's PyTorch module.
inline std::string class_name_of(std::string_view name) {
  std::string out;
  bool upper = true;
  for (const char c : name) {
    if (c == '_' || c == '-') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out.empty() || std::isdigit(static_cast<unsigned char>(out[0])) ? "Net" + out : out;
}

/// Writes Net's PyTorch module (export_pytorch) to `path`.
template <sn::network Net>
int write_pytorch(const fs::path& path, std::string_view name, std::string_view title) {
  std::ofstream f(path);
  if (!f) throw std::runtime_error("cannot write " + path.string());
  const std::string cls = class_name_of(name);
  sn::export_pytorch<Net>(f, {.class_name = cls, .title = std::string(title)});
  f.close();
  if (!f) throw std::runtime_error("cannot write " + path.string());
  std::cout << "wrote " << path.string() << " (class " << cls << ", " << sn::param_count<Net> << " parameters)\n";
  return 0;
}

/// Prints torchsummary's and / or torchinfo's table of Net's PyTorch module.
template <sn::network Net>
int print_torch_tables(const options& o, std::string_view name) {
  if (o.torchsummary) sn::print_torchsummary<Net>(std::cout);
  if (o.torchinfo) sn::print_torchinfo<Net>(std::cout, {.class_name = class_name_of(name)});
  return 0;
}

/// Runs an assignment program over its networks (see the file comment).
template <sn::network... Nets>
int run_programs(int argc, char** argv, augmentation kind, entry<Nets>... entries) {
  static_assert(sizeof...(Nets) > 0, "run_programs needs at least one network");
  options o;
  if (auto rc = parse(argc, argv, o)) return *rc;
  if (o.summary) {
    bool first = true;
    ((first ? void() : void(std::cout << "\n"), first = false, print_network<Nets>(std::cout, entries.title)), ...);
    std::cout << "\n" << sn::cpu::isa_summary() << "\n";
    return 0;
  }
  const std::string_view names[] = {entries.name...};
  const std::string chosen = o.network.empty() ? std::string(names[0]) : o.network;
  try {
    int rc = -1;
    if (o.export_pytorch)
      ((rc < 0 && chosen == entries.name ? void(rc = write_pytorch<Nets>(*o.export_pytorch, entries.name, entries.title))
                                         : void()), ...);
    else if (o.torchsummary || o.torchinfo)
      ((rc < 0 && chosen == entries.name ? void(rc = print_torch_tables<Nets>(o, entries.name)) : void()), ...);
    else
      ((rc < 0 && chosen == entries.name ? void(rc = train_network<Nets>(o, entries.name, kind)) : void()), ...);
    if (rc < 0) {
      std::cerr << argv[0] << ": no network named '" << chosen << "' (choose one of:";
      ((std::cerr << " " << entries.name), ...);
      std::cerr << ")\n";
      return 2;
    }
    return rc;
  } catch (const std::exception& e) {
    std::cerr << argv[0] << ": " << e.what() << "\n";
    return 1;
  }
}

}  // namespace assignments
