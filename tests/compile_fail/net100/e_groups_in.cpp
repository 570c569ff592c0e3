// A Conv2d with 3 groups on 32 channels as layer 49.
// expect: E_GROUPS_IN
// expect: invalid_layer<49, staticnet::Conv2d<
// expect: staticnet::error::groups_in, staticnet::input<32, 32, 32>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<sn::Conv2d<sn::conv{.out = 64, .groups = 3}>>;
constexpr auto n = sn::param_count<Net>;
