// staticnet/augment/augment.hpp: moved to <staticnet/augment/all.hpp> in 0.2.
// This forwarding header is kept for one release (removed in 0.3): include
// <staticnet/augment/all.hpp> instead.
#pragma once
#include "all.hpp"
