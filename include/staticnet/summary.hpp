// staticnet/summary.hpp: torchsummary-style model summary and receptive-field table.
//   staticnet::print_summary<Net>(std::cout);
//   staticnet::print_receptive_field<Net>(std::cout);
#pragma once
#include <cstdint>
#include <cstdio>
#include <ostream>
#include <string>

#include "facts.hpp"
#include "network.hpp"
#include "core/plan.hpp"

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
/// and sizes and the receptive field.
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
  for (const auto& r : pl.rows) {
    if (!r.is_layer() && r.desc.kind != op_kind::branch_end) continue;
    std::string name = row_name(r);
    if (!r.torch_row) name += "*", uncounted = true;
    std::string branch_marks;
    for (int d = 0; d < r.depth; ++d) branch_marks += "| ";
    os << pad_right(block_path(pl, r.block), 10) << branch_marks << pad_left(name, 22 - branch_marks.size())
       << pad_left(shape_string(r.out), 25) << pad_left(with_commas(r.f.params), 15) << '\n';
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

/// The summary of a network; an invalid one fails to compile with its error
/// (the note names print_summary<Net> too, unless a fact or a rule of the
/// network was used before, which reports the error without the network type).
template <network Net>
void print_summary(std::ostream& os) {
  if constexpr (Net::report::value) print_summary(Net::plan, os);
}
template <network Net>
void print_receptive_field(std::ostream& os) {
  if constexpr (Net::report::value) print_receptive_field(Net::plan, os);
}

}  // namespace staticnet
