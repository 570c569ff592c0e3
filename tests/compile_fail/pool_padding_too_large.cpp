// A 2x2 average pool with padding 2 (more than half the kernel), layer 2.
// expect: E_POOL_PADDING
// expect: padding must be at most half the kernel size
// expect: invalid_layer<2,
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::ReLU, sn::AvgPool2d<sn::pool{.kernel = 2, .padding = 2}>>;
constexpr auto n = sn::param_count<Net>;
