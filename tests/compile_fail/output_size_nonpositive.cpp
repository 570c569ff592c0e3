// A 5x5 conv on the 4x4 output of a max pool, layer 2.
// expect: E_OUTPUT_SIZE
// expect: the output height or width would be zero or negative
// expect: invalid_layer<2,
// expect: staticnet::input<3, 4, 4>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::MaxPool2d<>, sn::Conv2d<sn::conv{.out = 4, .kernel = 5}>>;
constexpr auto n = sn::param_count<Net>;
