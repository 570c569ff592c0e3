// staticnet/engine/all.hpp: what every backend shares (see docs/engine.md,
// "Backends"): the memory plan, the fusion plan, the kernel geometries, tensor names, initialisation,
// the dropout bits and the `engine` concept the trainer takes. None of it
// depends on a backend, and all of it compiles under nvcc.
#pragma once
#include "memory_plan.hpp"
#include "fusion.hpp"
#include "inference_plan.hpp"
#include "geometry.hpp"
#include "tensor_names.hpp"
#include "init.hpp"
#include "random.hpp"
#include "engine.hpp"
