// ParamsBelow<100> on a network of 112 parameters (4*3*3*3 weights + 4 biases).
// expect: R_PARAMS_BELOW
// expect: the network has N or more trainable parameters
// expect: verify<1, 112>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Conv2d<sn::conv{.out = 4}>>;
static_assert(sn::check<Net, sn::rules::ParamsBelow<100>>);
