// staticnet/checkpoint.hpp: moved to <staticnet/train/checkpoint.hpp> in 0.2.
// This forwarding header is kept for one release (removed in 0.3): include
// <staticnet/train/checkpoint.hpp> instead.
#pragma once
#include "train/checkpoint.hpp"
#include "train/optimizer_state.hpp"
