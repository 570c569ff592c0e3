// staticnet/memory_plan.hpp: moved to <staticnet/engine/memory_plan.hpp> in 0.2.
// This forwarding header is kept for one release (removed in 0.3): include
// <staticnet/engine/memory_plan.hpp> instead.
#pragma once
#include "engine/memory_plan.hpp"
