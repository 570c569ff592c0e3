// staticnet/engine/geometry.hpp: the kernel geometry of a conv or pooling row
// of a network plan (cpu::conv_geom / cpu::pool_geom, the plain structs every
// backend's kernels take).
#pragma once
#include "../core/plan.hpp"
#include "../cpu/kernel_types.hpp"

namespace staticnet::detail {

constexpr cpu::conv_geom conv_geometry(const plan_row& r) noexcept {
  const geometry& g = r.f.g;
  return {r.in.c, r.in.h, r.in.w, r.out.c, r.out.h, r.out.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw,
          r.f.groups, r.f.winograd, r.f.winograd_data};
}

constexpr cpu::pool_geom pool_geometry(const plan_row& r) noexcept {
  const geometry& g = r.f.g;
  return {r.in.c, r.in.h, r.in.w, r.out.h, r.out.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw,
          r.desc.p.ceil_mode, r.desc.p.count_include_pad};
}

}  // namespace staticnet::detail
