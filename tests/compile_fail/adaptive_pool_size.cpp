// AdaptiveAvgPool2d<2>: only the output size 1 (global average pooling) exists.
// expect: E_ADAPTIVE_POOL
// expect: only N = 1
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::AdaptiveAvgPool2d<2>>;
constexpr auto n = sn::param_count<Net>;
