// A Linear without output features (.out defaults to 0), layer 2.
// expect: E_LINEAR_OUT
// expect: Linear: output features (.out) must be positive
// expect: invalid_layer<2,
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Flatten, sn::Linear<sn::linear{}>>;
constexpr auto n = sn::param_count<Net>;
