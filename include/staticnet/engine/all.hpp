// staticnet/engine/all.hpp: what every backend shares (see docs/engine.md,
// "Backends"): the memory plan.
#pragma once
#include "memory_plan.hpp"
