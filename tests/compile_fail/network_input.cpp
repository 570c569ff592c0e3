// A Network whose first argument is a layer, not Input<C, H, W>.
// expect: E_NETWORK_INPUT
// expect: the first argument of Network must be Input<C, H, W>
// expect: invalid_layer<0, staticnet::ReLU, staticnet::error::network_input
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::ReLU, sn::ReLU>;
constexpr auto n = sn::param_count<Net>;
