// A C++ application using the installed package's Predictor: saves a
// checkpoint of a small network, loads it into sn::Predictor and requires the
// same top-1 class as the Model's eval forward.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <vector>

#include <staticnet/staticnet.hpp>

namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Conv2d<sn::conv{.out = 4, .padding = 1, .bias = false}>,
                        sn::BatchNorm2d, sn::ReLU, sn::GlobalAvgPool, sn::Flatten, sn::Linear<sn::linear{.out = 3}>>;

int main() {
  auto model = std::make_unique<sn::Model<Net, 2>>(3);
  const std::filesystem::path file = std::filesystem::temp_directory_path() / "staticnet_consumer_predictor.safetensors";
  sn::save_checkpoint(file, *model);
  sn::Predictor<Net> p(file, {.mean = {0.5, 0.5, 0.5}, .std = {0.25, 0.25, 0.25}, .threads = 1});
  std::vector<float> x(3 * 8 * 8);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 7) - 3.0f;
  model->eval();
  const auto out = model->forward(x, 1);
  int best = 0;
  for (int c = 1; c < 3; ++c)
    if (out[static_cast<std::size_t>(c)] > out[static_cast<std::size_t>(best)]) best = c;
  const auto top = p.classify(x, 3);
  std::filesystem::remove(file);
  if (top.size() != 3 || top[0].label != best) {
    std::printf("predictor: top-1 %d, model %d\n", top.empty() ? -1 : top[0].label, best);
    return 1;
  }
  std::printf("predictor: top-1 %d (%.3f), as the model; inference %lld floats per image, training %lld\n",
              top[0].label, top[0].probability, static_cast<long long>(sn::inference_activation_floats<Net>),
              static_cast<long long>(sn::training_activation_floats<Net>));
  return 0;
}
