// staticnet/core/all.hpp: the compile-time core's building blocks: options,
// op descriptions, shapes, type lists, errors, shape inference, topology, the
// network plan and the exercise rule sets. <staticnet/core.hpp> is the entry
// point users include (these plus the layers, facts, rules and summary).
#pragma once
#include "fixed_string.hpp"
#include "op.hpp"
#include "options.hpp"
#include "shape.hpp"
#include "type_list.hpp"
#include "errors.hpp"
#include "infer.hpp"
#include "topology.hpp"
#include "plan.hpp"
#include "exercises.hpp"
