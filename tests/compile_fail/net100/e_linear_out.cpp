// A Linear without .out after a Flatten (layers 49, 50).
// expect: E_LINEAR_OUT
// expect: invalid_layer<50, staticnet::Linear<
// expect: staticnet::error::linear_out_missing, staticnet::input<32768>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<sn::Sequential<sn::Flatten, sn::Linear<sn::linear{}>>>;
constexpr auto n = sn::param_count<Net>;
