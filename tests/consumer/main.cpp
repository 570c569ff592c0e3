// A user's project: finds the installed package and proves a small network.
#include <iostream>
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
  return sn::param_count<Net> == 186 ? 0 : 1;
}
