// staticnet/plan.hpp: moved to <staticnet/core/plan.hpp> in 0.2.
// This forwarding header is kept for one release (removed in 0.3): include
// <staticnet/core/plan.hpp> instead.
#pragma once
#include "core/plan.hpp"
