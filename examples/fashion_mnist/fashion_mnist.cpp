// The main job: train a small CNN on Fashion-MNIST (Debian's
// dataset-fashion-mnist package) with OneCycle SGD and report the test
// accuracy after every epoch, with curves, misclassified images and the
// confusion matrix written to the output directory.
//
//   fashion_mnist [--data /usr/share/datasets/fashion-mnist] [--epochs 4] [--batch-size 128]
//                 [--max-lr 0.1] [--seed 1] [--threads N] [--out runs/fashion_mnist] [--summary]
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>

#include <staticnet/staticnet.hpp>

#include "fashion_net.hpp"

namespace sn = staticnet;

int main(int argc, char** argv) {
  std::filesystem::path data = "/usr/share/datasets/fashion-mnist", out = "runs/fashion_mnist";
  int epochs = 4, batch = 128, threads = 0;
  double max_lr = 0.1;
  std::uint64_t seed = 1;
  int progress = -1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << argv[0] << ": " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--summary") {
      sn::print_summary<FashionNet>(std::cout);
      sn::print_receptive_field<FashionNet>(std::cout);
      std::cout << sn::activation_memory_line<FashionNet>() << "\n";
      std::cout << "\n" << sn::cpu::isa_summary() << "\n";
      return 0;
    } else if (a == "--data") data = value();
    else if (a == "--out") out = value();
    else if (a == "--epochs") epochs = std::stoi(value());
    else if (a == "--batch-size") batch = std::stoi(value());
    else if (a == "--max-lr") max_lr = std::stod(value());
    else if (a == "--seed") seed = std::stoull(value());
    else if (a == "--threads") threads = std::stoi(value());
    else if (a == "--plain") progress = 0;
    else {
      std::cerr << "usage: " << argv[0]
                << " [--data DIR] [--epochs N] [--batch-size N<=128] [--max-lr X] [--seed N] [--threads N]"
                   " [--out DIR] [--plain] [--summary]\n";
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  if (epochs < 1 || batch < 1 || batch > 128 || !(max_lr > 0)) {
    std::cerr << argv[0] << ": --epochs >= 1, --batch-size in 1..128 and --max-lr > 0 please\n";
    return 2;
  }
  try {
    if (threads > 0) sn::cpu::set_num_threads(threads);
    const sn::data::dataset train_set = sn::data::load_fashion_mnist(data, sn::data::split::train);
    const sn::data::dataset test_set = sn::data::load_fashion_mnist(data, sn::data::split::test);
    const sn::data::channel_stats st = sn::data::compute_channel_stats(train_set);
    namespace aug = sn::augment;
    // A network this small underfits Fashion-MNIST in a few epochs: no augmentation, just Normalize.
    const aug::Compose pipeline{aug::Normalize{.mean = {st.mean[0]}, .std = {st.std[0]}, .max_pixel_value = 255.0}};
    sn::data::batch_loader train(train_set, batch, true, true, seed, pipeline);
    sn::data::batch_loader test(test_set, 128, false, false, seed, sn::data::normalize_transform(st));
    auto model = std::make_unique<sn::Model<FashionNet, 128>>(seed);
    sn::SGD opt(*model, {.lr = static_cast<float>(max_lr / 25), .momentum = 0.9f, .weight_decay = 5e-4f});
    sn::OneCycleLR sched(opt, {.max_lr = max_lr, .epochs = epochs, .steps_per_epoch = train.batches_per_epoch()});
    std::cout << "Fashion-MNIST: " << train_set.size() << " training and " << test_set.size() << " test images; "
              << sn::param_count<FashionNet> << " parameters; " << epochs << " epochs on " << sn::cpu::num_threads()
              << " threads\n";
    const auto r = sn::fit(*model, opt, sched, train, test,
                           {.epochs = epochs, .output_dir = out, .progress = progress,
                            .metadata = {{"data.mean", sn::channel_list_text(st.mean)},
                                         {"data.std", sn::channel_list_text(st.std)}}});
    double seconds = 0;
    for (const auto& e : r.history) seconds += e.seconds;
    std::cout << "final test accuracy " << 100 * r.history.back().test_acc << "% (best " << 100 * r.best_accuracy
              << "% at epoch " << r.best_epoch << "); training time " << seconds << " s\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << argv[0] << ": " << e.what() << "\n";
    return 1;
  }
}
