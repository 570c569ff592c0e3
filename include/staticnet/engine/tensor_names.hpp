// staticnet/engine/tensor_names.hpp: the PyTorch names and shapes of a
// network's parameters and buffers, and where each lives in an engine's flat
// parameter and buffer arrays (the memory plan's offsets). Every backend
// names its tensors through this, so checkpoints move between engines.
//
//   for (const sn::tensor_spec& t : sn::tensor_specs<Net>())
//     std::cout << t.name << " " << t.numel << "\n";   // "C1.0.weight 864", ...
//
// Names follow PyTorch's module paths: a Block is a named container, a layer
// its index within it, a Module an indexed item holding its layers, Add /
// Concat an indexed item holding "branches.<b>" ("C1.0.weight",
// "C2.3.branches.1.0.bias", "O.1.running_var", "C1.2.0.weight").
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "../core/op.hpp"
#include "../core/plan.hpp"
#include "../network.hpp"
#include "memory_plan.hpp"

namespace staticnet {

/// A parameter (trainable, in the parameter array) or a buffer (BatchNorm's
/// running statistics, in the buffer array) of a network.
struct tensor_spec {
  std::string name;          ///< PyTorch-style name, e.g. "C1.1.weight"
  std::vector<int> shape;    ///< PyTorch shape
  std::int64_t offset = 0;   ///< first float in the parameter (trainable) or buffer array
  std::int64_t numel = 0;
  bool trainable = true;
};

/// A named tensor of an engine, bound to its host-visible memory.
struct named_tensor {
  std::string name;        ///< PyTorch-style name, e.g. "C1.1.weight"
  std::vector<int> shape;  ///< PyTorch shape
  std::span<float> data;
  std::span<float> grad;   ///< empty for buffers
  bool trainable = true;
};

/// PyTorch-style module path of every op of a plan ("" for markers).
[[nodiscard]] inline std::vector<std::string> layer_names(std::span<const plan_row> rows) {
  std::vector<std::string> names(rows.size());
  struct level {
    std::string prefix;
    int counter = 0;
    int branch = 0;
  };
  std::vector<level> stack{{"", 0, 0}};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const plan_row& r = rows[i];
    level& top = stack.back();
    switch (r.desc.kind) {
      case op_kind::block_begin: {
        // A Block is named by its name, a Module (one class, many instances) by its index.
        std::string prefix =
            top.prefix + (r.desc.module ? std::to_string(top.counter) : std::string(r.desc.name.view())) + ".";
        ++top.counter;
        stack.push_back({prefix, 0, 0});
        break;
      }
      case op_kind::branch_begin: {
        std::string base = top.prefix + std::to_string(top.counter++) + ".branches.";
        stack.push_back({base, 0, 0});
        stack.push_back({base + "0.", 0, 0});
        break;
      }
      case op_kind::branch_next: {
        stack.pop_back();
        level& m = stack.back();
        ++m.branch;
        stack.push_back({m.prefix + std::to_string(m.branch) + ".", 0, 0});
        break;
      }
      case op_kind::branch_end:
        stack.pop_back();
        stack.pop_back();
        break;
      case op_kind::block_end: stack.pop_back(); break;
      default: names[i] = top.prefix + std::to_string(top.counter++); break;
    }
  }
  return names;
}

/// Every parameter and buffer of a plan, in execution order (per layer: weight,
/// bias, then BatchNorm's running_mean and running_var).
[[nodiscard]] inline std::vector<tensor_spec> tensor_specs(std::span<const plan_row> rows,
                                                           std::span<const exec_row> ex) {
  std::vector<tensor_spec> out;
  const std::vector<std::string> names = layer_names(rows);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const plan_row& r = rows[i];
    const exec_row& e = ex[i];
    if (r.desc.kind == op_kind::conv || r.desc.kind == op_kind::linear) {
      if (r.desc.kind == op_kind::conv)
        out.push_back({names[i] + ".weight", {r.out.c, r.in.c / r.f.groups, r.f.g.kh, r.f.g.kw}, e.param, e.weight, true});
      else
        out.push_back({names[i] + ".weight", {r.out.c, r.in.c}, e.param, e.weight, true});
      if (e.bias) out.push_back({names[i] + ".bias", {r.out.c}, e.param + e.weight, e.bias, true});
    } else if (r.desc.kind == op_kind::batchnorm) {
      out.push_back({names[i] + ".weight", {r.in.c}, e.param, r.in.c, true});
      out.push_back({names[i] + ".bias", {r.in.c}, e.param + r.in.c, r.in.c, true});
      out.push_back({names[i] + ".running_mean", {r.in.c}, e.buffer, r.in.c, false});
      out.push_back({names[i] + ".running_var", {r.in.c}, e.buffer + r.in.c, r.in.c, false});
    }
  }
  return out;
}

/// The specs bound to an engine's host arrays (grads may be null: no gradients).
[[nodiscard]] inline std::vector<named_tensor> bind_tensors(const std::vector<tensor_spec>& specs, float* params,
                                                            float* grads, float* buffers) {
  std::vector<named_tensor> out;
  out.reserve(specs.size());
  for (const tensor_spec& s : specs) {
    const auto n = static_cast<std::size_t>(s.numel);
    if (s.trainable)
      out.push_back({s.name, s.shape, {params + s.offset, n},
                     grads ? std::span<float>(grads + s.offset, n) : std::span<float>{}, true});
    else
      out.push_back({s.name, s.shape, {buffers + s.offset, n}, {}, false});
  }
  return out;
}

template <network Net>
[[nodiscard]] std::vector<std::string> layer_names() {
  return layer_names(std::span<const plan_row>(Net::plan.rows));
}
template <network Net>
[[nodiscard]] std::vector<tensor_spec> tensor_specs() {
  static constexpr auto ex = make_exec_plan(Net::plan);
  return tensor_specs(std::span<const plan_row>(Net::plan.rows), std::span<const exec_row>(ex.rows));
}

}  // namespace staticnet
