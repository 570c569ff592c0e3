// A Block with an empty name.
// expect: E_BLOCK_NAME
// expect: a Block needs a non-empty name
// expect: staticnet::detail::block_begin_op<
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Block<"", sn::ReLU>>;
constexpr auto n = sn::param_count<Net>;
