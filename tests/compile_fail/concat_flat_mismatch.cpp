// A Concat of a flat branch (Flatten, layer 1) and a 3 x 1 x 1 identity branch: same sizes,
// but flat and C x H x W outputs are mixed.
// expect: E_CONCAT_SHAPE
// expect: mix flat and C x H x W outputs
// expect: invalid_layer<1,
// expect: staticnet::Concat<staticnet::branch<1>::gives<3>, staticnet::branch<2>::gives<3, 1, 1>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 1, 1>, sn::Concat<sn::Flatten, sn::Sequential<>>>;
constexpr auto n = sn::param_count<Net>;
