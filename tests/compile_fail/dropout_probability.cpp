// A Dropout with probability 1.5, layer 2.
// expect: E_DROPOUT_P
// expect: Dropout: the probability must be in [0, 1]
// expect: invalid_layer<2,
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::ReLU, sn::Dropout<sn::probability{1500000}>>;
constexpr auto n = sn::param_count<Net>;
