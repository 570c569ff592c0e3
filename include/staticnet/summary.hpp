// staticnet/summary.hpp: torchsummary-style model summary and receptive-field
// table; torchsummary's and torchinfo's own tables for the network's PyTorch form.
//   staticnet::print_summary<Net>(std::cout);
//   staticnet::print_receptive_field<Net>(std::cout);
//   staticnet::print_torchsummary<Net>(std::cout);             // torchsummary 1.5.1's text
//   staticnet::print_torchinfo<Net>(std::cout, {.class_name = "Net"});  // torchinfo 1.8.0's
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "facts.hpp"
#include "network.hpp"
#include "core/plan.hpp"
#include "torch_module.hpp"

namespace staticnet {

namespace detail {

inline std::string with_commas(std::int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out;
  const int n = static_cast<int>(digits.size());
  for (int i = 0; i < n; ++i) {
    if (i > 0 && (n - i) % 3 == 0) out += ',';
    out += digits[static_cast<std::size_t>(i)];
  }
  return v < 0 ? "-" + out : out;
}

inline std::string fixed2(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

inline std::string pad_left(const std::string& s, std::size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}
inline std::string pad_right(const std::string& s, std::size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

inline std::string shape_string(const shape& s) {
  if (s.flat) return "[-1, " + std::to_string(s.c) + "]";
  return "[-1, " + std::to_string(s.c) + ", " + std::to_string(s.h) + ", " + std::to_string(s.w) + "]";
}

inline std::string pair_string(int a, int b) {
  return a == b ? std::to_string(a) : std::to_string(a) + "x" + std::to_string(b);
}

inline std::string row_name(const plan_row& r) {
  if (r.desc.kind == op_kind::branch_end) return r.desc.merge == merge_kind::add ? "Add" : "Concat";
  if (r.desc.kind == op_kind::block_end && r.desc.module) return std::string(r.desc.name.view());
  return std::string(kind_name(r.desc.kind)) + "-" + std::to_string(r.number);
}

template <std::size_t N>
std::string block_path(const plan<N>& pl, int b) {
  std::string path;
  while (b >= 0) {
    path = std::string(pl.blocks[static_cast<std::size_t>(b)].name.view()) + (path.empty() ? "" : "/") + path;
    b = pl.blocks[static_cast<std::size_t>(b)].parent;
  }
  return path;
}

}  // namespace detail

/// Prints the torchsummary-style table of a plan, with torchinfo's mult-adds
/// and sizes and the receptive field. Rows: every layer (Kind-number, its
/// staticnet layer number), an "Add" / "Concat" row per merge, and a row per
/// Module after its layers (its name, output shape and, in parentheses, the
/// parameters inside it); rows torchsummary would not print are marked "*".
template <std::size_t N>
void print_summary(const plan<N>& pl, std::ostream& os) {
  using namespace detail;
  const std::string line(78, '-');
  const std::string dline(78, '=');
  os << line << '\n'
     << pad_right("Block", 10) << pad_left("Layer (type)", 22) << pad_left("Output Shape", 25)
     << pad_left("Param #", 15) << '\n'
     << dline << '\n';
  bool uncounted = false;
  std::vector<std::int64_t> modules;  // parameters inside each open Module
  for (const auto& r : pl.rows) {
    const bool module_end = r.desc.kind == op_kind::block_end && r.desc.module;
    if (r.desc.kind == op_kind::block_begin && r.desc.module) modules.push_back(0);
    if (r.is_layer())
      for (std::int64_t& m : modules) m += r.f.params;
    if (!r.is_layer() && r.desc.kind != op_kind::branch_end && !module_end) continue;
    std::string name = row_name(r);
    if (!r.torch_row) name += "*", uncounted = true;
    std::string branch_marks;
    for (int d = 0; d < r.depth; ++d) branch_marks += "| ";
    std::string params = with_commas(r.f.params);
    if (module_end) {  // what it holds, in parentheses: torchsummary counts only a module's own weight and bias
      params.assign(1, '(');  // (appended: g++ 12 warns, wrongly, on "(" + std::string at -O2)
      params += with_commas(modules.empty() ? 0 : modules.back());
      params += ')';
      if (!modules.empty()) modules.pop_back();
    }
    os << pad_right(block_path(pl, r.block), 10) << branch_marks << pad_left(name, 22 - branch_marks.size())
       << pad_left(shape_string(r.out), 25) << pad_left(params, 15) << '\n';
  }
  const memory_estimate ts = torchsummary_memory(pl);
  const memory_estimate ti = torchinfo_memory(pl);
  os << dline << '\n'
     << "Total params: " << with_commas(pl.params) << '\n'
     << "Trainable params: " << with_commas(pl.params) << '\n'
     << "Non-trainable params: 0\n"
     << "Buffers (BatchNorm running mean/var): " << with_commas(pl.buffers) << '\n'
     << line << '\n'
     << "Input size (MB): " << fixed2(ts.input_mb) << '\n'
     << "Forward/backward pass size (MB): " << fixed2(ts.forward_backward_mb) << '\n'
     << "Params size (MB): " << fixed2(ts.params_mb) << '\n'
     << "Estimated Total Size (MB): " << fixed2(ts.total_mb) << '\n'
     << line << '\n'
     << "torchinfo convention (layers with parameters, 10^6 bytes):\n"
     << "Total mult-adds (M): " << fixed2(static_cast<double>(pl.mult_adds) / 1e6) << '\n'
     << "Input size (MB): " << fixed2(ti.input_mb) << '\n'
     << "Forward/backward pass size (MB): " << fixed2(ti.forward_backward_mb) << '\n'
     << "Params size (MB): " << fixed2(ti.params_mb) << '\n'
     << "Estimated Total Size (MB): " << fixed2(ti.total_mb) << '\n'
     << line << '\n'
     << "Multiply-accumulates per image (conv/linear weights): " << with_commas(pl.macs) << '\n'
     << "Receptive field (before global pooling): " << pair_string(pl.rf_h, pl.rf_w)
     << ", jump " << pair_string(pl.jump_h, pl.jump_w) << '\n';
  if (uncounted)
    os << "* functional in the usual PyTorch code (x.view, F.log_softmax, +, torch.cat): not a "
          "torchsummary row, not in its size estimate\n";
  os << line << '\n';
}

/// Prints the per-layer receptive-field table: convs, pools, global pooling
/// (GlobalAvgPool, "all"; a full-window pool, "(global)": neither adds to the
/// receptive field) and ZeroPad2d (its padding; "pad left,right,top,bottom"
/// when the sides differ).
template <std::size_t N>
void print_receptive_field(const plan<N>& pl, std::ostream& os) {
  using namespace detail;
  const std::string line(96, '-');
  os << line << '\n'
     << pad_right("Block", 10) << pad_right("Layer", 22) << pad_left("k", 6) << pad_left("s", 5)
     << pad_left("d", 5) << pad_left("p", 5) << pad_left("g", 6) << pad_left("in", 10)
     << pad_left("out", 10) << pad_left("RF", 8) << pad_left("jump", 7) << '\n'
     << line << '\n';
  os << pad_right("", 10) << pad_right("input", 22) << pad_left("", 27)
     << pad_left(pair_string(pl.input.h, pl.input.w), 10) << pad_left("", 10) << pad_left("1", 8)
     << pad_left("1", 7) << '\n';
  for (const auto& r : pl.rows) {
    const bool gap = r.desc.kind == op_kind::global_avgpool;
    const bool zero_pad = r.desc.kind == op_kind::zero_pad;
    if (!r.f.spatial && !r.f.global_pool && !zero_pad) continue;
    const geometry& g = r.f.g;
    os << pad_right(block_path(pl, r.block), 10)
       << pad_right(row_name(r) + (r.f.global_pool && !gap ? " (global)" : ""), 22);
    if (gap) {
      os << pad_left("all", 6) << pad_left("-", 5) << pad_left("-", 5) << pad_left("-", 5) << pad_left("-", 6);
    } else if (zero_pad) {  // symmetric: p as HxW; otherwise "pad left,right,top,bottom" over k..p
      const pad& z = r.desc.zp;
      if (z.top == z.bottom && z.left == z.right)
        os << pad_left("-", 6) << pad_left("-", 5) << pad_left("-", 5) << pad_left(pair_string(z.top, z.left), 5);
      else
        os << pad_left("pad " + std::to_string(z.left) + "," + std::to_string(z.right) + "," +
                           std::to_string(z.top) + "," + std::to_string(z.bottom),
                       21);
      os << pad_left("-", 6);
    } else {
      os << pad_left(pair_string(g.kh, g.kw), 6) << pad_left(pair_string(g.sh, g.sw), 5)
         << pad_left(pair_string(g.dh, g.dw), 5) << pad_left(pair_string(g.ph, g.pw), 5)
         << pad_left(r.desc.kind == op_kind::conv ? std::to_string(r.f.groups) : "-", 6);
    }
    os << pad_left(pair_string(r.in.h, r.in.w), 10) << pad_left(pair_string(r.out.h, r.out.w), 10)
       << pad_left(pair_string(r.rf_h, r.rf_w), 8) << pad_left(pair_string(r.jump_h, r.jump_w), 7) << '\n';
  }
  os << line << '\n'
     << "Receptive field before global pooling: " << pair_string(pl.rf_h, pl.rf_w)
     << " (rf += dilation*(k-1)*jump; jump *= stride; global pooling is not counted)\n";
}

/// Prints what torchsummary 1.5.1 (`torchsummary.summary(model, (C, H, W))`)
/// prints for the network's PyTorch form (torch_module.hpp, the module
/// export_pytorch writes): one row per module call but nn.Sequential's and the
/// model's, numbered in that order; a row's "Param #" is the module's own
/// weight and bias; sizes in MB of 2^20 bytes (4-byte floats): the input, 2 x
/// the rows' outputs, the parameters and their sum; then the empty line its
/// print() adds, so that the two outputs diff equal.
template <std::size_t N>
void print_torchsummary(const plan<N>& pl, std::ostream& os) {
  using namespace detail;
  const std::string line(64, '-');
  const std::string dline(64, '=');
  os << line << '\n'
     << pad_left("Layer (type)", 20) << "  " << pad_left("Output Shape", 25) << ' ' << pad_left("Param #", 15) << '\n'
     << dline << '\n';
  std::int64_t total_params = 0, trainable = 0, total_output = 0;
  int number = 0;
  for (const auto& r : pl.rows) {
    if (!r.torch_row) continue;
    const std::string key = (r.is_layer() ? std::string(kind_name(r.desc.kind)) : std::string(r.desc.name.view())) +
                            "-" + std::to_string(++number);
    const std::int64_t params = r.is_layer() ? r.f.params : 0;
    os << pad_left(key, 20) << "  " << pad_left(shape_string(r.out), 25) << ' ' << pad_left(with_commas(params), 15)
       << '\n';
    total_params += params;
    total_output -= r.out.numel();  // the batch prints as -1, and multiplies in as -1
    const op_kind k = r.desc.kind;
    if (r.is_layer() && (k == op_kind::conv || k == op_kind::batchnorm || k == op_kind::linear)) trainable += params;
  }
  // torchsummary's own arithmetic, in its order.
  const double mib = 1024.0 * 1024.0;
  const double input_mb = std::abs(static_cast<double>(-pl.input.numel()) * 4.0 / mib);
  const double output_mb = std::abs(2.0 * static_cast<double>(total_output) * 4.0 / mib);
  const double params_mb = std::abs(static_cast<double>(total_params) * 4.0 / mib);
  const double total_mb = params_mb + output_mb + input_mb;
  os << dline << '\n'
     << "Total params: " << with_commas(total_params) << '\n'
     << "Trainable params: " << with_commas(trainable) << '\n'
     << "Non-trainable params: " << with_commas(total_params - trainable) << '\n'
     << line << '\n'
     << "Input size (MB): " << fixed2(input_mb) << '\n'
     << "Forward/backward pass size (MB): " << fixed2(output_mb) << '\n'
     << "Params size (MB): " << fixed2(params_mb) << '\n'
     << "Estimated Total Size (MB): " << fixed2(total_mb) << '\n'
     << line << "\n\n";  // summary() prints its string, which ends in a newline, with print()
}

/// Options of print_torchinfo: torchinfo.summary's.
struct torchinfo_options {
  std::string class_name = "Net";  ///< the model's class, the table's first row
  int depth = 3;                   ///< torchinfo's `depth`: rows nested deeper are not shown
  /// The tree of a model that merges its branches in a forward (`x + self.body(x)`,
  /// `torch.cat([self.a(x), self.b(x)], 1)`), as PyTorch code usually does: no
  /// Add / Concat / Branches rows; a branch of one item is that item, a branch
  /// of several an nn.Sequential. (The default is the PyTorch form export_pytorch
  /// writes, whose Add / Concat modules keep the checkpoint's names.)
  bool functional_merges = false;
};

namespace detail {

inline std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

inline std::string ljust(const std::string& s, std::size_t width) {
  const std::size_t n = utf8_length(s);
  return n >= width ? s : s + std::string(width - n, ' ');
}

inline std::string torchinfo_shape(const shape& s) {
  if (s.flat) return "[1, " + std::to_string(s.c) + "]";
  return "[1, " + std::to_string(s.c) + ", " + std::to_string(s.h) + ", " + std::to_string(s.w) + "]";
}

/// A row of torchinfo's table: a module of the PyTorch form, in call order.
struct torchinfo_row {
  const torch_node* node = nullptr;
  int depth = 0;
  int index = 0;  ///< torchinfo's depth-idx: rank among the rows of its depth
};

inline void torchinfo_walk(const torch_node& n, int depth, std::vector<torchinfo_row>& out, bool functional) {
  if (!n.is_module()) return;
  if (functional && (n.k == torch_node::kind::add || n.k == torch_node::kind::concat)) {
    for (const torch_node& branch : n.children.front().children) {
      if (branch.children.size() == 1) {
        torchinfo_walk(branch.children.front(), depth, out, functional);
      } else if (!branch.children.empty()) {
        out.push_back({&branch, depth, 0});
        for (const torch_node& c : branch.children) torchinfo_walk(c, depth + 1, out, functional);
      }
    }
    return;
  }
  out.push_back({&n, depth, 0});
  for (const torch_node& c : n.children) torchinfo_walk(c, depth + 1, out, functional);
}

}  // namespace detail

/// Prints what torchinfo 1.8.0 (`torchinfo.summary(model, (1, C, H, W))`, its
/// default columns) prints for the network's PyTorch form (torch_module.hpp):
/// every module in call order, the model first, indented by depth and
/// numbered "depth-idx"; "Param #" is a leaf module's parameters, "--" for a
/// container above the last shown depth (options.depth), everything inside it
/// at that depth; total mult-adds (facts.hpp's mult_adds); sizes in MB of
/// 10^6 bytes: the input, 2 x the outputs of the leaf modules with
/// parameters, the parameters and their sum. options.functional_merges
/// prints the tree of a model that merges in its forward instead.
template <std::size_t N>
void print_torchinfo(const plan<N>& pl, std::ostream& os, const torchinfo_options& options = {}) {
  using namespace detail;
  const torch_node tree = torch_module_tree(pl, options.class_name);
  std::vector<torchinfo_row> rows;
  torchinfo_walk(tree, 0, rows, options.functional_merges);
  std::vector<int> counters;
  auto label = [](const torchinfo_row& r) {
    return r.depth == 0 ? r.node->class_name
                        : r.node->class_name + ": " + std::to_string(r.depth) + "-" + std::to_string(r.index);
  };
  std::size_t name_width = 40;
  std::size_t longest = 0;
  for (torchinfo_row& r : rows) {
    if (counters.size() <= static_cast<std::size_t>(r.depth)) counters.resize(static_cast<std::size_t>(r.depth) + 1, 0);
    r.index = ++counters[static_cast<std::size_t>(r.depth)];
    longest = std::max(longest, label(r).size() + static_cast<std::size_t>(r.depth) * 5 + 1);
  }
  if (longest >= name_width) name_width = (longest + 4) / 5 * 5;
  const std::size_t col = 25;
  const std::string rule(name_width + 2 * col, '=');
  auto format = [&](const std::string& name, const std::string& a, const std::string& b) {
    std::string s = ljust(name, name_width) + " " + ljust(a, col) + " " + ljust(b, col);
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s + "\n";
  };
  os << rule << '\n' << format("Layer (type:depth-idx)", "Output Shape", "Param #") << rule << '\n';
  std::int64_t output_bytes = 0;
  for (const torchinfo_row& r : rows) {
    const torch_node& n = *r.node;
    const bool leaf = n.is_leaf();
    if (leaf && n.params > 0) output_bytes += 2 * 4 * n.out.numel();
    if (r.depth > options.depth) continue;
    std::string start;
    if (r.depth == 1) start = "├─";
    else if (r.depth > 1) {
      for (int d = 1; d < r.depth; ++d) start += "│    ";
      start += "└─";
    }
    const bool all = leaf || r.depth == options.depth;
    os << format(start + label(r), torchinfo_shape(n.out), n.params > 0 && all ? with_commas(n.params) : "--");
  }
  const double mult_adds = static_cast<double>(pl.mult_adds);
  const char* unit = mult_adds >= 1e12 ? "T" : mult_adds >= 1e9 ? "G" : "M";
  const double scale = mult_adds >= 1e12 ? 1e12 : mult_adds >= 1e9 ? 1e9 : 1e6;
  const std::int64_t input_bytes = 4 * pl.input.numel();
  const std::int64_t param_bytes = 4 * pl.params;
  os << rule << '\n'
     << "Total params: " << with_commas(pl.params) << '\n'
     << "Trainable params: " << with_commas(pl.params) << '\n'
     << "Non-trainable params: 0\n"
     << "Total mult-adds (" << unit << "): " << fixed2(mult_adds / scale) << '\n'
     << rule << '\n'
     << "Input size (MB): " << fixed2(static_cast<double>(input_bytes) / 1e6) << '\n'
     << "Forward/backward pass size (MB): " << fixed2(static_cast<double>(output_bytes) / 1e6) << '\n'
     << "Params size (MB): " << fixed2(static_cast<double>(param_bytes) / 1e6) << '\n'
     << "Estimated Total Size (MB): " << fixed2(static_cast<double>(input_bytes + output_bytes + param_bytes) / 1e6)
     << '\n'
     << rule << '\n';
}

/// The summary of a network; an invalid one fails to compile with its error
/// (the note names print_summary<Net> too, unless a fact or a rule of the
/// network was used before, which reports the error without the network type).
template <network Net>
void print_summary(std::ostream& os) {
  if constexpr (Net::report::value) print_summary(Net::plan, os);
}
template <network Net>
void print_torchsummary(std::ostream& os) {
  if constexpr (Net::report::value) print_torchsummary(Net::plan, os);
}
template <network Net>
void print_torchinfo(std::ostream& os, const torchinfo_options& options = {}) {
  if constexpr (Net::report::value) print_torchinfo(Net::plan, os, options);
}
template <network Net>
void print_receptive_field(std::ostream& os) {
  if constexpr (Net::report::value) print_receptive_field(Net::plan, os);
}

}  // namespace staticnet
