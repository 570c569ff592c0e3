// staticnet/trainer.hpp: moved to <staticnet/train/trainer.hpp> in 0.2.
// This forwarding header is kept for one release (removed in 0.3): include
// <staticnet/train/trainer.hpp> instead.
#pragma once
#include "train/trainer.hpp"
