// ZeroPad2d(-4) on a 8x8 map crops all of it, layer 2.
// expect: E_OUTPUT_SIZE
// expect: or a ZeroPad2d crops all of it
// expect: invalid_layer<2,
// expect: staticnet::input<3, 8, 8>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::ReLU, sn::ZeroPad2d<-4>>;
constexpr auto n = sn::param_count<Net>;
