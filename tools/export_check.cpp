// export_check: the C++ half of the checkpoint interop check with PyTorch.
//
//   ./build/tools/export_check OUT_DIR
//   /usr/bin/python3 tools/checkpoint_to_pytorch.py OUT_DIR/s7_dilated.safetensors
//                    --check OUT_DIR/s7_dilated_io.safetensors
//
// Builds the S7-dilated reference model (seeded initialisation), trains it a
// few SGD steps (momentum, weight decay) on random data so the BatchNorm
// running statistics and the momentum buffers are non-trivial, and writes
//   OUT_DIR/s7_dilated.safetensors     the checkpoint (parameters, buffers,
//                                      SGD momentum buffers, metadata)
//   OUT_DIR/s7_dilated_io.safetensors  "input" (4 x 3 x 32 x 32) and the
//                                      model's eval-mode "output" (4 x 10)
// It also reloads the checkpoint into a fresh model and checks that it gives
// the same output bit for bit (exit status 1 otherwise).
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <staticnet/train/checkpoint.hpp>
#include <staticnet/train/optimizer_state.hpp>
#include <staticnet/cpu/model.hpp>
#include <staticnet/train/optim.hpp>

#include "networks.hpp"

namespace sn = staticnet;
using Net = assignments::S7DilatedReference;

namespace {

std::vector<float> normal(std::size_t n, std::mt19937& rng, float mean, float stddev) {
  std::normal_distribution<float> d(mean, stddev);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

int run(const std::filesystem::path& out_dir) {
  constexpr int batch = 8, steps = 5, eval_batch = 4;
  std::filesystem::create_directories(out_dir);
  sn::Model<Net, batch> model(/*seed=*/2024);
  sn::SGD opt(model, {.lr = 0.05f, .momentum = 0.9f, .weight_decay = 5e-4f});
  std::mt19937 rng(7);
  model.train();
  for (int s = 0; s < steps; ++s) {
    // Inputs off zero mean / unit variance so the running statistics move well away from (0, 1).
    const auto x = normal(static_cast<std::size_t>(batch) * sn::Model<Net, batch>::input_numel, rng, 0.5f, 2.0f);
    std::vector<std::int32_t> y(batch);
    for (auto& t : y) t = static_cast<std::int32_t>(rng() % 10);
    const float loss = model.forward_backward(x, y, batch);
    opt.step(model);
    std::printf("step %d: loss %.4f\n", s + 1, static_cast<double>(loss));
  }

  const auto ckpt = out_dir / "s7_dilated.safetensors";
  sn::checkpoint_extras extras;
  sn::add_optimizer_state(extras, model, opt);
  extras.set("epoch", 1);
  extras.set("step", steps);
  extras.set("data_seed", 7);
  extras.set("init_seed", 2024);
  sn::save_checkpoint(ckpt, model, extras);

  model.eval();
  std::mt19937 eval_rng(11);
  const auto x = normal(static_cast<std::size_t>(eval_batch) * sn::Model<Net, batch>::input_numel, eval_rng, 0.0f, 1.0f);
  const auto out = model.forward(x, eval_batch);
  const std::vector<float> y(out.begin(), out.end());
  const auto io = out_dir / "s7_dilated_io.safetensors";
  sn::safetensors::write(io, {{"input", {eval_batch, 3, 32, 32}, x}, {"output", {eval_batch, 10}, y}},
                         {{"fingerprint", sn::architecture_fingerprint<Net>()}});

  // The checkpoint alone reproduces the model.
  sn::Model<Net, batch> fresh(/*seed=*/1);
  const auto info = sn::load_checkpoint(ckpt, fresh);
  fresh.eval();
  const auto again = fresh.forward(x, eval_batch);
  if (std::memcmp(again.data(), y.data(), y.size() * sizeof(float)) != 0) {
    std::fprintf(stderr, "export_check: the reloaded checkpoint gives a different output\n");
    return 1;
  }
  std::printf("wrote %s (%zu extra tensors, fingerprint %s)\nwrote %s\n", ckpt.c_str(), info.extras.size(),
              info.fingerprint.c_str(), io.c_str());
  std::printf("next: /usr/bin/python3 tools/checkpoint_to_pytorch.py %s --check %s\n", ckpt.c_str(), io.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2 || (argc == 2 && (std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0))) {
    std::fprintf(stderr, "usage: %s [OUT_DIR]   (default: the current directory)\n", argv[0]);
    return 2;
  }
  try {
    return run(argc == 2 ? argv[1] : ".");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "export_check: %s\n", e.what());
    return 1;
  }
}
