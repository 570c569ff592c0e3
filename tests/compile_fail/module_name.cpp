// A Module's name is its PyTorch class name: "conv block" is not a Python identifier.
// expect: E_MODULE_NAME
// expect: Python identifier
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Module<"conv block", sn::Conv2d<sn::conv{.out = 4}>>>;
constexpr auto n = sn::param_count<Net>;
