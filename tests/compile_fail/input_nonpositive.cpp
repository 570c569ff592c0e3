// An input with zero channels.
// expect: E_INPUT
// expect: Input<C, H, W> needs positive channels, height and width
// expect: invalid_layer<0, staticnet::Input<0, 32, 32>, staticnet::error::input_nonpositive
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<0, 32, 32>, sn::ReLU>;
constexpr auto n = sn::param_count<Net>;
