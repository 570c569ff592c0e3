// Blocks nested 33 levels deep (the limit is 32) around one ReLU; the too-deep block
// comes before any layer, so the position is 0.
// expect: E_NESTING
// expect: nested more than 32 levels deep
// expect: invalid_layer<0,
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
template <int N>
struct deep {
  using type = sn::Block<"B", typename deep<N - 1>::type>;
};
template <>
struct deep<0> {
  using type = sn::ReLU;
};
using Net = sn::Network<sn::Input<3, 8, 8>, deep<33>::type>;
constexpr auto n = sn::param_count<Net>;
