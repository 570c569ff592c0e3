// staticnet/topology.hpp: moved to <staticnet/core/topology.hpp> in 0.2.
// This forwarding header is kept for one release (removed in 0.3): include
// <staticnet/core/topology.hpp> instead.
#pragma once
#include "core/topology.hpp"
