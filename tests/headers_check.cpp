// Compiled by the headers.* tests with -Wall -Wextra -Wpedantic -Werror under
// every available compiler: the umbrella header and the assignment networks.
#include <staticnet/staticnet.hpp>

#include "networks.hpp"

namespace sn = staticnet;
static_assert(sn::param_count<assignments::S9Reference> == 198'757);
static_assert(sn::param_count<assignments::S7DilatedReference> == 68'992);

int main() { return 0; }
