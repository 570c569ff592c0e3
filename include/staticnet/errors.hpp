// staticnet/errors.hpp: moved to <staticnet/core/errors.hpp> in 0.2.
// This forwarding header is kept for one release (removed in 0.3): include
// <staticnet/core/errors.hpp> instead.
#pragma once
#include "core/errors.hpp"
