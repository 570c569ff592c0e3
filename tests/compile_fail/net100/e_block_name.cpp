// A Block with an empty name between C2 and C3.
// expect: E_BLOCK_NAME
// expect: invalid_layer<48, staticnet::detail::block_begin_op<
// expect: staticnet::error::block_name
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<sn::Block<"", sn::ReLU>>;
constexpr auto n = sn::param_count<Net>;
