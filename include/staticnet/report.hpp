// staticnet/report.hpp: moved to <staticnet/report/all.hpp> in 0.2.
// This forwarding header is kept for one release (removed in 0.3): include
// <staticnet/report/all.hpp> instead.
#pragma once
#include "report/all.hpp"
