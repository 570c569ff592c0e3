// staticnet/torch_module.hpp: a network's PyTorch form — the tree of
// nn.Modules that train/pytorch.hpp's export_pytorch writes, with staticnet's
// tensor names (engine/tensor_names.hpp) as its module paths.
//
//   Network            the model class (a Chain: its forward applies its steps
//                      in order; Flatten / LogSoftmax directly in it are the
//                      functions torch.flatten(x, 1) / F.log_softmax(x, dim=1))
//   Block<"C1", ...>   an nn.Sequential, attribute "C1" of its parent
//   Module<"Name", ...> a class Name (a Chain, as the model: Flatten / LogSoftmax
//                      directly in it are functions), named by its index
//   Add / Concat       Add / Concat (nn.Sequential subclasses, so that
//                      torchsummary prints no row for the merge), holding
//                      "branches" (Branches, an nn.Sequential subclass that
//                      feeds its input to every branch), each branch an
//                      nn.Sequential ("branches.<b>"; Sequential<> is an empty one)
//   a layer            its torch.nn module (Conv2d, BatchNorm2d, ...), named by
//                      its index in its container
//
// torchsummary (print_torchsummary) and torchinfo (print_torchinfo) see this
// tree; print_summary and the size estimates (facts.hpp) follow it too.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/op.hpp"
#include "core/plan.hpp"
#include "core/shape.hpp"

namespace staticnet {

/// One nn.Module (or function step) of a network's PyTorch form.
struct torch_node {
  enum class kind : std::uint8_t {
    model,       ///< the network's class (a Chain)
    layer,       ///< a torch.nn layer (Conv2d, ReLU, ...)
    function,    ///< torch.flatten / F.log_softmax, applied by a Chain's forward (not a module)
    sequential,  ///< nn.Sequential: a Block or one branch of an Add / Concat
    module,      ///< a Module: its own class (a Chain), named by its index
    add,         ///< Add: the sum of its branches
    concat,      ///< Concat: its branches concatenated along channels
    branches,    ///< Branches: an Add's / Concat's branches, fed the same input
  };
  kind k = kind::layer;
  std::string class_name;  ///< PyTorch class ("Conv2d", "Sequential", "Add", "Branches", a Module's, the model's)
  std::string name;        ///< attribute name in its parent ("C1", "0", "branches")
  std::string path;        ///< module path ("C1.3.branches.1"), "" for the model
  int row = -1;            ///< the plan row of a layer or function, of a container's first marker
  shape out{};             ///< output shape (a Branches: its first branch's)
  std::int64_t params = 0; ///< parameters inside (every descendant's)
  std::vector<torch_node> children;

  [[nodiscard]] bool is_module() const noexcept { return k != kind::function; }
  /// No module children (torchinfo's leaf layers; an empty Sequential is one).
  [[nodiscard]] bool is_leaf() const noexcept {
    for (const torch_node& c : children)
      if (c.is_module()) return false;
    return true;
  }
};

namespace torch_detail {

struct cursor {
  std::span<const plan_row> rows;
  std::size_t i = 0;
};

inline std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

inline void finish(torch_node& n) {
  if (n.k == torch_node::kind::layer || n.k == torch_node::kind::function) return;
  n.params = 0;
  for (torch_node& c : n.children) {
    finish(c);
    n.params += c.params;
  }
}

// The items of one container until the marker that ends it (left for the caller).
inline void parse_items(cursor& c, torch_node& parent, bool chain) {
  int counter = 0;
  while (c.i < c.rows.size()) {
    const plan_row& r = c.rows[c.i];
    switch (r.desc.kind) {
      case op_kind::block_end:
      case op_kind::branch_next:
      case op_kind::branch_end: return;
      case op_kind::block_begin: {
        const bool module = r.desc.module;
        torch_node b{module ? torch_node::kind::module : torch_node::kind::sequential,
                     module ? std::string(r.desc.name.view()) : std::string("Sequential"),
                     module ? std::to_string(counter) : std::string(r.desc.name.view()), {}, static_cast<int>(c.i), {},
                     0, {}};
        b.path = join(parent.path, b.name);
        ++counter;
        ++c.i;
        parse_items(c, b, module);
        if (c.i >= c.rows.size() || c.rows[c.i].desc.kind != op_kind::block_end)
          throw std::logic_error("staticnet: torch_module_tree: a block without its end");
        b.out = c.rows[c.i].out;
        ++c.i;
        parent.children.push_back(std::move(b));
        break;
      }
      case op_kind::branch_begin: {
        const bool add = r.desc.merge == merge_kind::add;
        torch_node m{add ? torch_node::kind::add : torch_node::kind::concat, add ? "Add" : "Concat",
                     std::to_string(counter++), {}, static_cast<int>(c.i), {}, 0, {}};
        m.path = join(parent.path, m.name);
        torch_node br{torch_node::kind::branches, "Branches", "branches", join(m.path, "branches"),
                      static_cast<int>(c.i), {}, 0, {}};
        ++c.i;
        for (int b = 0;; ++b) {
          torch_node s{torch_node::kind::sequential, "Sequential", std::to_string(b), join(br.path, std::to_string(b)),
                       static_cast<int>(c.i), {}, 0, {}};
          parse_items(c, s, false);
          if (c.i >= c.rows.size())
            throw std::logic_error("staticnet: torch_module_tree: branches without their merge");
          s.out = c.rows[c.i].in;  // the shape reaching branch_next / branch_end
          br.children.push_back(std::move(s));
          if (c.rows[c.i].desc.kind == op_kind::branch_next) {
            ++c.i;
            continue;
          }
          if (c.rows[c.i].desc.kind != op_kind::branch_end)
            throw std::logic_error("staticnet: torch_module_tree: a branch ended by a block's end");
          break;
        }
        br.out = br.children.front().out;
        m.out = c.rows[c.i].out;
        ++c.i;
        m.children.push_back(std::move(br));
        parent.children.push_back(std::move(m));
        break;
      }
      default: {
        const bool function = chain && (r.desc.kind == op_kind::flatten || r.desc.kind == op_kind::log_softmax);
        torch_node n{function ? torch_node::kind::function : torch_node::kind::layer,
                     function ? std::string(r.desc.kind == op_kind::flatten ? "flatten" : "log_softmax")
                              : std::string(kind_name(r.desc.kind)),
                     std::to_string(counter++), {}, static_cast<int>(c.i), r.out, r.f.params, {}};
        n.path = join(parent.path, n.name);
        ++c.i;
        parent.children.push_back(std::move(n));
        break;
      }
    }
  }
}

}  // namespace torch_detail

/// The PyTorch form of a plan's network, rooted at the model (class
/// `class_name`); module paths are staticnet's tensor-name prefixes.
[[nodiscard]] inline torch_node torch_module_tree(std::span<const plan_row> rows, shape output,
                                                  const std::string& class_name = "Net") {
  torch_node model{torch_node::kind::model, class_name, "", "", -1, output, 0, {}};
  torch_detail::cursor c{rows, 0};
  torch_detail::parse_items(c, model, true);
  if (c.i != rows.size()) throw std::logic_error("staticnet: torch_module_tree: an end marker without its start");
  torch_detail::finish(model);
  return model;
}

template <std::size_t N>
[[nodiscard]] torch_node torch_module_tree(const plan<N>& pl, const std::string& class_name = "Net") {
  return torch_module_tree(std::span<const plan_row>(pl.rows), pl.output, class_name);
}

}  // namespace staticnet
