// A conv after Flatten, layer 3.
// expect: E_FLAT_INPUT
// expect: needs a C x H x W input but gets a flat vector
// expect: invalid_layer<3,
// expect: staticnet::input<144>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Conv2d<sn::conv{.out = 4}>, sn::Flatten, sn::Conv2d<sn::conv{.out = 4}>>;
constexpr auto n = sn::param_count<Net>;
