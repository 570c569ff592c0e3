// staticnet/assignments.hpp: moved to <staticnet/core/exercises.hpp> in 0.2.
// This forwarding header is kept for one release (removed in 0.3): include
// <staticnet/core/exercises.hpp> instead. The rule sets' namespace is now
// staticnet::exercises (staticnet::assignments clashed with the examples'
// ::assignments): write sn::exercises::S7Dilated.
#pragma once
#include "core/exercises.hpp"
