// A struct that is not a layer between C2 and C3.
// expect: E_NOT_A_LAYER
// expect: invalid_layer<49, staticnet::detail::not_a_layer<NotALayer>, staticnet::error::not_a_layer
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
struct NotALayer {};
using Net = net100::Net<NotALayer>;
constexpr auto n = sn::param_count<Net>;
