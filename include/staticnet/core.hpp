// staticnet/core.hpp: the compile-time core — layers, topology, shapes, facts,
// rules and the summary — without the engine. Enough for static checks, and
// what CUDA sources include (it compiles under nvcc).
#pragma once
#include "core/all.hpp"
#include "layers/all.hpp"
#include "network.hpp"
#include "facts.hpp"
#include "rules.hpp"
#include "summary.hpp"
#include "version.hpp"
