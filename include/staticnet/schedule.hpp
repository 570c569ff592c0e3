// staticnet/schedule.hpp: moved to <staticnet/train/schedule.hpp> in 0.2.
// This forwarding header is kept for one release (removed in 0.3): include
// <staticnet/train/schedule.hpp> instead.
#pragma once
#include "train/schedule.hpp"
