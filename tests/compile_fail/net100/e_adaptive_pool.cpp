// AdaptiveAvgPool2d<2> between C2 and C3.
// expect: E_ADAPTIVE_POOL
// expect: adaptive_avg_pool<2>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<sn::AdaptiveAvgPool2d<2>>;
constexpr auto n = sn::param_count<Net>;
