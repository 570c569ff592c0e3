// ZeroPad2d after Flatten, layer 2.
// expect: E_FLAT_INPUT
// expect: invalid_layer<2,
// expect: staticnet::input<192>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Flatten, sn::ZeroPad2d<1>>;
constexpr auto n = sn::param_count<Net>;
