// A stride-2 Conv2d forced onto Winograd as layer 49.
// expect: E_WINOGRAD
// expect: invalid_layer<49, staticnet::Conv2d<
// expect: staticnet::error::winograd_ineligible, staticnet::input<32, 32, 32>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<sn::Conv2d<sn::conv{.out = 32, .kernel = 3, .stride = 2, .padding = 1,
                                            .algo = sn::conv_algo::winograd_f4}>>;
constexpr auto n = sn::param_count<Net>;
