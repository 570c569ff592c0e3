// A Conv2d with stride 0, layer 2.
// expect: E_CONV_GEOMETRY
// expect: kernel, stride, dilation and groups must be >= 1
// expect: invalid_layer<2,
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::BatchNorm2d, sn::Conv2d<sn::conv{.out = 4, .stride = 0}>>;
constexpr auto n = sn::param_count<Net>;
