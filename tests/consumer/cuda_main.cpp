// A user's program on the GPU engine, built against the installed package
// (staticnet::cuda). With a GPU it trains one step; without one, cuda::Model
// says why and the program reports it (exit 0: the build and link are what
// the package test checks).
#include <cstdint>
#include <iostream>
#include <memory>
#include <vector>

#include <staticnet/cuda/model.hpp>
#include <staticnet/staticnet.hpp>

namespace sn = staticnet;
using Net = sn::Network<sn::Input<1, 28, 28>, sn::Conv2d<sn::conv{.out = 8, .kernel = 3, .padding = 1}>,
                        sn::BatchNorm2d, sn::ReLU, sn::MaxPool2d<>, sn::GlobalAvgPool, sn::Flatten,
                        sn::Linear<sn::linear{.out = 10}>, sn::LogSoftmax>;

int main() {
  if (sn::cuda::device_count() == 0) {
    std::cout << "no CUDA device (" << sn::cuda::no_device_reason() << "); the GPU engine linked\n";
    return 0;
  }
  auto model = std::make_unique<sn::cuda::Model<Net, 4>>(1);
  sn::SGD opt(*model, {.lr = 0.01f, .momentum = 0.9f});
  std::vector<float> x(2 * 28 * 28, 0.25f);
  const std::vector<std::int32_t> y = {3, 7};
  const float loss = model->train_step(x, y, 2, opt);
  std::cout << "GPU loss " << loss << "\n";
  return loss > 0.0f && loss < 10.0f ? 0 : 1;
}
