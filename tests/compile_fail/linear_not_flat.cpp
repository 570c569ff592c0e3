// A Linear on a C x H x W input (no Flatten before it), layer 2.
// expect: E_LINEAR_INPUT
// expect: Linear needs a flat input
// expect: invalid_layer<2,
// expect: staticnet::input<4, 6, 6>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Conv2d<sn::conv{.out = 4}>, sn::Linear<sn::linear{.out = 10}>>;
constexpr auto n = sn::param_count<Net>;
