// A 3x3 max pool with dilation 2 and padding 2, layer 1: half the effective
// kernel (5 / 2 = 2) would allow it, but PyTorch also requires pad <= kernel / 2 = 1.
// expect: E_POOL_PADDING
// expect: padding <= kernel / 2
// expect: invalid_layer<1,
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::MaxPool2d<sn::pool{.kernel = 3, .stride = 1, .padding = 2, .dilation = 2}>>;
constexpr auto n = sn::param_count<Net>;
