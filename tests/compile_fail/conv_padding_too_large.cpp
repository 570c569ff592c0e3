// A 3x3 conv with padding 3 (more than dilation*(kernel-1) = 2), layer 2.
// expect: E_CONV_PADDING
// expect: padding is larger than the dilated kernel extent
// expect: invalid_layer<2,
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::ReLU, sn::Conv2d<sn::conv{.out = 4, .kernel = 3, .padding = 3}>>;
constexpr auto n = sn::param_count<Net>;
