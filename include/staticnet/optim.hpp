// staticnet/optim.hpp: moved to <staticnet/train/optim.hpp> in 0.2.
// This forwarding header is kept for one release (removed in 0.3): include
// <staticnet/train/optim.hpp> instead.
#pragma once
#include "train/optim.hpp"
