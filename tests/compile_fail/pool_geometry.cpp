// A max pool with kernel 0, layer 2.
// expect: E_POOL_GEOMETRY
// expect: pooling: kernel, stride and dilation must be >= 1
// expect: invalid_layer<2,
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Conv2d<sn::conv{.out = 4}>, sn::MaxPool2d<sn::pool{.kernel = 0}>>;
constexpr auto n = sn::param_count<Net>;
