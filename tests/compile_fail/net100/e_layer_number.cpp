// staticnet::layer of a number the 100-layer network does not have.
// expect: E_LAYER_NUMBER
// expect: layer_number<101, 100>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<>;
constexpr auto row = sn::layer<Net, 101>;
