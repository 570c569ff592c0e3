// Blocks nested 33 levels deep around a ReLU between C2 and C3.
// expect: E_NESTING
// expect: invalid_layer<48, staticnet::detail::block_begin_op<
// expect: staticnet::error::nesting_too_deep
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
template <int N>
struct deep {
  using type = sn::Block<"B", typename deep<N - 1>::type>;
};
template <>
struct deep<0> {
  using type = sn::ReLU;
};
using Net = net100::Net<deep<33>::type>;
constexpr auto n = sn::param_count<Net>;
