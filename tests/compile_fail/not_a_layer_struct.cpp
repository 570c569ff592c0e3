// A struct that is not a layer, inside a block.
// expect: E_NOT_A_LAYER
// expect: this type is not a layer
// expect: invalid_layer<2, staticnet::detail::not_a_layer<NotALayer>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
struct NotALayer {};
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Block<"C1", sn::ReLU, NotALayer>>;
constexpr auto n = sn::param_count<Net>;
