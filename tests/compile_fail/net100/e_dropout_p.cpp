// A Dropout with probability 1.5 as layer 49.
// expect: E_DROPOUT_P
// expect: invalid_layer<49, staticnet::Dropout<
// expect: staticnet::error::dropout_probability, staticnet::input<32, 32, 32>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<sn::Dropout<sn::probability{1500000}>>;
constexpr auto n = sn::param_count<Net>;
