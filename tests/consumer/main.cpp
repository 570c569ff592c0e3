// A user's project: finds the installed package and proves a small network.
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <vector>
#include <staticnet/staticnet.hpp>

namespace sn = staticnet;
using Net = sn::Network<sn::Input<1, 28, 28>,
                        sn::Conv2d<sn::conv{.out = 8, .kernel = 3, .padding = 1}>, sn::BatchNorm2d, sn::ReLU,
                        sn::MaxPool2d<>, sn::GlobalAvgPool, sn::Flatten, sn::Linear<sn::linear{.out = 10}>,
                        sn::LogSoftmax>;
static_assert(sn::param_count<Net> == 8 * 9 + 8 + 16 + 8 * 10 + 10);
static_assert(sn::output_shape<Net>.c == 10);

int main() {
  sn::print_summary<Net>(std::cout);
  // The engine runs: with staticnet::staticnet the kernels come from the
  // installed library, the best variant this CPU has (this program is built
  // without -march flags); with staticnet::header_only they are compiled here.
  std::cout << sn::cpu::isa_summary() << "\n";
  auto model = std::make_unique<sn::Model<Net, 4>>(1);
  std::vector<float> x(2 * 28 * 28, 0.25f);
  const std::vector<std::int32_t> y = {3, 7};
  model->train();
  const float loss = model->forward_backward(x, y, 2);
  std::cout << "loss " << loss << "\n";
  if (!(loss > 0.0f && loss < 10.0f)) return 1;
#if defined(STATICNET_COMPILED_KERNELS) && defined(__x86_64__)
  // The compiled library runs the best variant without any flag from the user.
  if (std::string(sn::cpu::kernels().variant) != sn::cpu::usable_isas().front()) return 1;
#endif
  return sn::param_count<Net> == 186 ? 0 : 1;
}
