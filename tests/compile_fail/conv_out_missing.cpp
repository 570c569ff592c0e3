// A Conv2d without output channels (.out defaults to 0), layer 3.
// expect: E_CONV_OUT
// expect: output channels (.out) must be positive
// expect: invalid_layer<3,
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Conv2d<sn::conv{.out = 4, .padding = 1}>, sn::ReLU,
                        sn::Conv2d<sn::conv{.kernel = 3}>>;
constexpr auto n = sn::param_count<Net>;
