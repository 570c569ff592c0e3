// A 35x35 conv on the 32 x 32 map as layer 49.
// expect: E_OUTPUT_SIZE
// expect: invalid_layer<49, staticnet::Conv2d<
// expect: staticnet::error::nonpositive_output, staticnet::input<32, 32, 32>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<sn::Conv2d<sn::conv{.out = 8, .kernel = 35}>>;
constexpr auto n = sn::param_count<Net>;
