// staticnet/model.hpp: moved to <staticnet/cpu/model.hpp> in 0.2.
// This forwarding header is kept for one release (removed in 0.3): include
// <staticnet/cpu/model.hpp> instead.
#pragma once
#include "cpu/model.hpp"
