// staticnet/infer.hpp: moved to <staticnet/core/infer.hpp> in 0.2.
// This forwarding header is kept for one release (removed in 0.3): include
// <staticnet/core/infer.hpp> instead.
#pragma once
#include "core/infer.hpp"
