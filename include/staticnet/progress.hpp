// staticnet/progress.hpp: moved to <staticnet/train/progress.hpp> in 0.2.
// This forwarding header is kept for one release (removed in 0.3): include
// <staticnet/train/progress.hpp> instead.
#pragma once
#include "train/progress.hpp"
