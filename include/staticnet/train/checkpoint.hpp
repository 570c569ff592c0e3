// staticnet/train/checkpoint.hpp: checkpoints in the safetensors format.
//
//   sn::Model<Net> model(1);                      // any engine (engine/engine.hpp)
//   sn::SGD opt(model, {.lr = 0.05f, .momentum = 0.9f});
//   ...
//   sn::checkpoint_extras extras;
//   sn::add_optimizer_state(extras, model, opt);    // "optimizer.momentum_buffer.<param>"
//   extras.set("epoch", 12);
//   sn::save_checkpoint("run/last.safetensors", model, extras);   // atomic
//
//   sn::checkpoint_info info = sn::load_checkpoint("run/last.safetensors", model);
//   sn::restore_optimizer_state(info, model, opt);
//   int epoch = info.number<int>("epoch").value_or(0);
//
// save_checkpoint also records, in the metadata, an architecture fingerprint
// (a hash of the layer-by-layer description of the network, also stored) that
// load_checkpoint checks, and the BatchNorm settings (and dropout state when
// the Model has one). Keys "staticnet.*" are reserved for these.
//
// The file format is io/safetensors.hpp's; optimizer state is
// train/optimizer_state.hpp's (add_optimizer_state / restore_optimizer_state).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include <charconv>
#include <type_traits>

#include "../engine/engine.hpp"
#include "../engine/tensor_names.hpp"
#include "../io/safetensors.hpp"
#include "../network.hpp"
#include "../version.hpp"

namespace staticnet {

// ------------------------------------------------------- architecture --
namespace checkpoint_detail {

inline std::string shape_text(const shape& s) {
  if (s.flat) return std::to_string(s.c);
  return std::to_string(s.c) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w);
}

inline std::string pair_text(int a, int b) { return std::to_string(a) + "x" + std::to_string(b); }

inline std::uint64_t fnv1a64(std::string_view s) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  return h;
}

inline std::vector<std::string_view> lines_of(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    const std::size_t nl = s.find('\n');
    out.push_back(s.substr(0, nl));
    if (nl == std::string_view::npos) break;
    s.remove_prefix(nl + 1);
  }
  return out;
}

template <class T>
std::string number_text(T v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v ? "true" : "false";
  } else {
    char buf[64];
    const auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
    (void)ec;
    return std::string(buf, ptr);
  }
}

template <class T>
std::optional<T> parse_number(std::string_view s) {
  T v{};
  if constexpr (std::is_same_v<T, bool>) {
    if (s == "true" || s == "1") return true;
    if (s == "false" || s == "0") return false;
    return std::nullopt;
  } else {
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
    return v;
  }
}

}  // namespace checkpoint_detail

/// A line-per-op description of a network: the input, then every op with its
/// PyTorch name, kind, shapes and geometry (kernel, stride, padding,
/// dilation, groups, bias, pooling modes, dropout probability, ZeroPad2d's
/// padding), block and branch structure: networks that differ in any of
/// these, even without a difference in their parameters' names and shapes,
/// have different descriptions.
template <network Net>
[[nodiscard]] std::string architecture_description() {
  using checkpoint_detail::pair_text;
  using checkpoint_detail::shape_text;
  constexpr auto& pl = Net::plan;
  const std::vector<std::string> names = layer_names<Net>();
  std::string out = "input " + shape_text(pl.input) + "\n";
  for (std::size_t i = 0; i < pl.size; ++i) {
    const plan_row& r = pl.rows[i];
    const geometry& g = r.f.g;
    std::string line;
    switch (r.desc.kind) {
      case op_kind::block_begin:
        line = (r.desc.module ? "module " : "block ") + std::string(r.desc.name.view());
        break;
      case op_kind::block_end:
        line = r.desc.module ? "end module " + std::string(r.desc.name.view()) : std::string("end block");
        break;
      case op_kind::branch_begin: line = "branches " + std::to_string(r.desc.branches); break;
      case op_kind::branch_next: line = "next branch"; break;
      case op_kind::branch_end:
        line = std::string(r.desc.merge == merge_kind::add ? "merge add " : "merge concat ") + "-> " +
               shape_text(r.out);
        break;
      default: {
        line = names[i] + " " + std::string(kind_name(r.desc.kind)) + " " + shape_text(r.in) + " -> " +
               shape_text(r.out);
        switch (r.desc.kind) {
          case op_kind::conv:
            line += " kernel=" + pair_text(g.kh, g.kw) + " stride=" + pair_text(g.sh, g.sw) +
                    " padding=" + pair_text(g.ph, g.pw) + " dilation=" + pair_text(g.dh, g.dw) +
                    " groups=" + std::to_string(r.f.groups) + " bias=" + (r.f.bias ? "true" : "false");
            break;
          case op_kind::maxpool:
          case op_kind::avgpool:
            line += " kernel=" + pair_text(g.kh, g.kw) + " stride=" + pair_text(g.sh, g.sw) +
                    " padding=" + pair_text(g.ph, g.pw) + " dilation=" + pair_text(g.dh, g.dw) +
                    " ceil_mode=" + (r.desc.p.ceil_mode ? "true" : "false");
            if (r.desc.kind == op_kind::avgpool)
              line += std::string(" count_include_pad=") + (r.desc.p.count_include_pad ? "true" : "false");
            break;
          case op_kind::linear: line += std::string(" bias=") + (r.f.bias ? "true" : "false"); break;
          case op_kind::zero_pad:
            line += " padding=" + std::to_string(r.desc.zp.left) + "," + std::to_string(r.desc.zp.right) + "," +
                    std::to_string(r.desc.zp.top) + "," + std::to_string(r.desc.zp.bottom);
            break;
          case op_kind::dropout: line += " p=" + std::to_string(r.desc.drop.ppm) + "e-6"; break;
          default: break;
        }
      }
    }
    out += line + "\n";
  }
  return out;
}

/// "staticnet-v1-<16 hex digits>": a hash of architecture_description<Net>().
template <network Net>
[[nodiscard]] std::string architecture_fingerprint() {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx",
                static_cast<unsigned long long>(checkpoint_detail::fnv1a64(architecture_description<Net>())));
  return std::string("staticnet-v1-") + buf;
}

// -------------------------------------------------------- checkpoints --

/// What a checkpoint carries besides the model: extra tensors (optimizer
/// state, ...) and string metadata (epoch, step, schedule state, seeds, ...).
/// The tensors are views: their buffers must live until save_checkpoint returns.
struct checkpoint_extras {
  std::vector<safetensors::tensor_view> tensors;
  safetensors::string_map metadata;

  void add(std::string name, std::vector<std::int64_t> shape, std::span<const float> data) {
    tensors.push_back({std::move(name), std::move(shape), data});
  }
  /// Sets a metadata value: a string as is, a number in its shortest
  /// round-trip form, a bool as "true" / "false".
  template <class T>
  void set(std::string key, const T& value) {
    if constexpr (std::is_arithmetic_v<T>)
      metadata[std::move(key)] = checkpoint_detail::number_text(value);
    else
      metadata[std::move(key)] = std::string(value);
  }
};

struct load_options {
  /// Refuse a checkpoint whose architecture fingerprint differs from the model's
  /// (when the checkpoint has one) even though names and shapes match.
  bool check_fingerprint = true;
  /// Load parameters and buffers that hold NaN or infinity (refused by
  /// default, naming each tensor: no training step or prediction can use them).
  bool allow_non_finite = false;
};

/// What load_checkpoint returns besides filling the model.
struct checkpoint_info {
  safetensors::string_map metadata;          ///< everything in "__metadata__"
  std::vector<safetensors::tensor> extras;   ///< the extra tensors, in file order
  std::string fingerprint;                   ///< the checkpoint's fingerprint ("" when it has none)
  bool fingerprint_checked = false;          ///< compared with the model's and equal
  std::vector<std::string> ignored;          ///< tensors skipped (PyTorch's num_batches_tracked)

  [[nodiscard]] const safetensors::tensor* extra(std::string_view name) const noexcept {
    for (const auto& t : extras)
      if (t.name == name) return &t;
    return nullptr;
  }
  [[nodiscard]] std::optional<std::string> get(std::string_view key) const {
    const auto it = metadata.find(std::string(key));
    if (it == metadata.end()) return std::nullopt;
    return it->second;
  }
  /// A metadata value as a number (or bool); nullopt when absent, throws
  /// std::runtime_error when present but not a number of type T.
  template <class T>
  [[nodiscard]] std::optional<T> number(std::string_view key) const {
    const auto s = get(key);
    if (!s) return std::nullopt;
    if (auto v = checkpoint_detail::parse_number<T>(*s)) return v;
    throw std::runtime_error("staticnet: checkpoint metadata \"" + std::string(key) + "\" = \"" + *s +
                             "\" is not a valid value of the expected type");
  }
};

namespace checkpoint_detail {

inline constexpr std::string_view reserved_prefix = "staticnet.";
inline constexpr const char* key_fingerprint = "staticnet.fingerprint";
inline constexpr const char* key_architecture = "staticnet.architecture";
inline constexpr const char* key_extras = "staticnet.extra_tensors";
inline constexpr const char* key_version = "staticnet.version";
inline constexpr const char* key_bn_momentum = "staticnet.bn_momentum";
inline constexpr const char* key_bn_eps = "staticnet.bn_eps";
inline constexpr const char* key_dropout_seed = "staticnet.dropout_seed";
inline constexpr const char* key_dropout_steps = "staticnet.dropout_steps";

inline std::vector<std::int64_t> to64(const std::vector<int>& s) { return {s.begin(), s.end()}; }

inline std::string list_text(const std::vector<std::string>& items, std::size_t limit = 40) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < limit; ++i) {
    if (i) out += ", ";
    out += items[i];
  }
  if (items.size() > limit) out += ", ... (" + std::to_string(items.size() - limit) + " more)";
  return out;
}

template <class T>
T required_number(const safetensors::string_map& meta, const char* key, const std::string& label) {
  const auto it = meta.find(key);
  const auto v = it == meta.end() ? std::nullopt : parse_number<T>(it->second);
  if (!v)
    throw std::runtime_error("staticnet: " + label + ": metadata \"" + key + "\" is " +
                             (it == meta.end() ? std::string("missing") : "\"" + it->second + "\", not a valid value"));
  return *v;
}

}  // namespace checkpoint_detail

/// Saves the model's parameters and buffers (PyTorch names and shapes, in
/// named_tensors() order), then the extra tensors, with the extras' metadata
/// plus staticnet's own ("staticnet.fingerprint", ".architecture", ".version",
/// ".bn_momentum", ".bn_eps", ".extra_tensors", dropout state) and "format":
/// "pt" (unless given), atomically (see safetensors::write).
template <engine M>
void save_checkpoint(const std::filesystem::path& path, M& model, const checkpoint_extras& extras = {}) {
  using Net = typename M::network_type;
  namespace cd = checkpoint_detail;
  engine_detail::sync_to_host(model);
  safetensors::string_map meta = extras.metadata;
  for (const auto& [key, value] : meta)
    if (std::string_view(key).starts_with(cd::reserved_prefix))
      throw std::invalid_argument("staticnet: save_checkpoint: metadata key \"" + key +
                                  "\" is reserved (\"staticnet.*\" keys are written by staticnet)");
  std::vector<safetensors::tensor_view> views;
  const std::vector<named_tensor> named = model.named_tensors();
  views.reserve(named.size() + extras.tensors.size());
  for (const named_tensor& t : named) views.push_back({t.name, cd::to64(t.shape), t.data});
  std::vector<std::string> extra_names;
  for (const auto& e : extras.tensors) {
    views.push_back(e);
    extra_names.push_back(e.name);
  }
  meta.emplace("format", "pt");
  meta[cd::key_version] = STATICNET_VERSION;
  meta[cd::key_fingerprint] = architecture_fingerprint<Net>();
  meta[cd::key_architecture] = architecture_description<Net>();
  meta[cd::key_bn_momentum] = cd::number_text(model.bn_momentum);
  meta[cd::key_bn_eps] = cd::number_text(model.bn_eps);
  if (!extra_names.empty()) meta[cd::key_extras] = safetensors::json::string_array(extra_names);
  if constexpr (requires { model.dropout_seed(); model.dropout_steps(); }) {
    meta[cd::key_dropout_seed] = cd::number_text(model.dropout_seed());
    meta[cd::key_dropout_steps] = cd::number_text(model.dropout_steps());
  }
  safetensors::write(path, views, meta);
}

namespace checkpoint_detail {

/// The prefix every missing name carries among the unexpected ones (a wrapped
/// model's state_dict: "module." of nn.DataParallel), or "" when there is none.
inline std::string common_prefix_hint(const std::vector<std::string>& missing,
                                      const std::vector<std::string>& unexpected) {
  if (missing.empty() || unexpected.empty()) return "";
  const std::set<std::string_view> extra(unexpected.begin(), unexpected.end());
  for (const std::string& u : unexpected) {
    if (u.size() <= missing.front().size() || !std::string_view(u).ends_with(missing.front())) continue;
    const std::string prefix = u.substr(0, u.size() - missing.front().size());
    if (std::all_of(missing.begin(), missing.end(),
                    [&](const std::string& m) { return extra.count(prefix + m) > 0; }))
      return prefix;
  }
  return "";
}

/// load_checkpoint on a file already read; `label` names it in messages.
template <engine M>
checkpoint_info load_file(safetensors::file f, const std::string& label, M& model, const load_options& options) {
  using Net = typename M::network_type;
  namespace cd = checkpoint_detail;

  // Every tensor by name (one index for all the look-ups below: a file may
  // hold tens of thousands of tensors).
  std::map<std::string_view, const safetensors::tensor*> by_name;
  for (const auto& t : f.tensors) by_name.emplace(t.name, &t);

  // The extras the checkpoint declares.
  std::set<std::string, std::less<>> extra_names;
  if (const auto it = f.metadata.find(cd::key_extras); it != f.metadata.end()) {
    safetensors::json::value list;
    try {
      list = safetensors::json::parser(it->second).parse_document();
    } catch (const safetensors::json::error&) {
    }
    if (list.type != safetensors::json::value::kind::array ||
        !std::all_of(list.items.begin(), list.items.end(),
                     [](const auto& v) { return v.type == safetensors::json::value::kind::string; }))
      throw std::runtime_error("staticnet: " + label + ": metadata \"" + cd::key_extras +
                               "\" is not a JSON array of strings");
    for (const auto& v : list.items) {
      if (!by_name.count(v.text))
        throw std::runtime_error("staticnet: " + label + ": metadata lists the extra tensor \"" + v.text +
                                 "\", which the file does not contain");
      extra_names.insert(v.text);
    }
  }

  // Names, shapes and dtypes against the model.
  std::vector<named_tensor> named = model.named_tensors();
  std::set<std::string_view> model_names;
  std::vector<std::string> missing, unexpected, mismatched, ignored;
  std::vector<const safetensors::tensor*> sources;
  sources.reserve(named.size());
  for (const named_tensor& t : named) {
    model_names.insert(t.name);
    const auto it = by_name.find(t.name);
    if (it == by_name.end()) {
      missing.push_back(t.name);
      sources.push_back(nullptr);
      continue;
    }
    const safetensors::tensor& s = *it->second;
    const std::vector<std::int64_t> want = cd::to64(t.shape);
    if (s.shape != want)
      mismatched.push_back(t.name + ": checkpoint " + safetensors::detail::shape_text(s.shape) + ", model " +
                           safetensors::detail::shape_text(want));
    else if (!s.is_f32())
      mismatched.push_back(t.name + ": checkpoint dtype " + s.dtype + ", model F32");
    sources.push_back(&s);
  }
  for (const auto& t : f.tensors) {
    if (model_names.count(t.name) || extra_names.count(t.name)) continue;
    constexpr std::string_view nbt = ".num_batches_tracked";
    const std::string_view name = t.name;
    if (name.ends_with(nbt) && t.numel() == 1 &&
        model_names.count(std::string(name.substr(0, name.size() - nbt.size())) + ".running_mean")) {
      ignored.push_back(t.name);
      continue;
    }
    unexpected.push_back(t.name);
  }
  const std::string model_fp = architecture_fingerprint<Net>();
  const auto fp_it = f.metadata.find(cd::key_fingerprint);
  const std::string file_fp = fp_it == f.metadata.end() ? "" : fp_it->second;
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::string msg = "staticnet: " + label + " does not match the model (saved from another architecture?):";
    if (!missing.empty())
      msg += "\n  missing from the checkpoint (" + std::to_string(missing.size()) + "): " + cd::list_text(missing);
    if (!unexpected.empty())
      msg += "\n  unexpected in the checkpoint (" + std::to_string(unexpected.size()) +
             "): " + cd::list_text(unexpected);
    if (!mismatched.empty()) {
      msg += "\n  shape mismatches (" + std::to_string(mismatched.size()) + "):";
      for (std::size_t i = 0; i < mismatched.size() && i < 40; ++i) msg += "\n    " + mismatched[i];
      if (mismatched.size() > 40) msg += "\n    ... (" + std::to_string(mismatched.size() - 40) + " more)";
    }
    if (const std::string prefix = cd::common_prefix_hint(missing, unexpected); !prefix.empty())
      msg += "\n  every missing name is in the file with the prefix \"" + prefix +
             "\" (a wrapped model's state_dict, e.g. nn.DataParallel's \"module.\": save the inner module's)";
    if (!file_fp.empty() && file_fp != model_fp)
      msg += "\n  architecture fingerprints: checkpoint " + file_fp + ", model " + model_fp;
    throw std::runtime_error(msg);
  }

  // Values no training step or prediction can use (a run that diverged and was saved anyway).
  if (!options.allow_non_finite) {
    std::string bad;
    std::size_t tensors = 0;
    for (std::size_t i = 0; i < named.size(); ++i) {
      const std::vector<float>& d = sources[i]->data;
      const auto first = std::find_if(d.begin(), d.end(), [](float v) { return !std::isfinite(v); });
      if (first == d.end()) continue;
      const auto count = std::count_if(first, d.end(), [](float v) { return !std::isfinite(v); });
      if (++tensors <= 20)
        bad += "\n  " + named[i].name + ": " + (std::isnan(*first) ? "NaN" : "infinity") + " at element " +
               std::to_string(first - d.begin()) + " (" + std::to_string(count) + " of " + std::to_string(d.size()) +
               " values not finite)";
    }
    if (tensors > 20) bad += "\n  ... (" + std::to_string(tensors - 20) + " more tensors)";
    if (tensors > 0)
      throw std::runtime_error("staticnet: " + label + " holds non-finite values in " + std::to_string(tensors) +
                               " tensor(s) (load_options{.allow_non_finite = true} loads them anyway):" + bad);
  }

  // Same names and shapes; the fingerprint also covers geometry without parameters.
  checkpoint_info info;
  info.fingerprint = file_fp;
  if (!file_fp.empty() && options.check_fingerprint) {
    if (file_fp != model_fp) {
      std::string msg = "staticnet: " + label + " was saved from a different architecture: fingerprint " + file_fp +
                        ", model " + model_fp + " (the tensor names and shapes match)";
      if (const auto a = f.metadata.find(cd::key_architecture); a != f.metadata.end()) {
        const std::string mine = architecture_description<Net>();
        const auto theirs_lines = cd::lines_of(a->second);
        const auto mine_lines = cd::lines_of(mine);
        for (std::size_t i = 0; i < std::max(theirs_lines.size(), mine_lines.size()); ++i) {
          const std::string_view t = i < theirs_lines.size() ? theirs_lines[i] : "(nothing)";
          const std::string_view m = i < mine_lines.size() ? mine_lines[i] : "(nothing)";
          if (t != m) {
            msg += "; first difference, line " + std::to_string(i + 1) + ":\n  checkpoint: " + std::string(t) +
                   "\n  model:      " + std::string(m);
            break;
          }
        }
      }
      msg += "\n(load_options{.check_fingerprint = false} loads it anyway)";
      throw std::runtime_error(msg);
    }
    info.fingerprint_checked = true;
  }

  // Model settings recorded by save_checkpoint, parsed before anything changes.
  std::optional<float> bn_momentum, bn_eps;
  if (f.metadata.count(cd::key_bn_momentum)) bn_momentum = cd::required_number<float>(f.metadata, cd::key_bn_momentum, label);
  if (f.metadata.count(cd::key_bn_eps)) bn_eps = cd::required_number<float>(f.metadata, cd::key_bn_eps, label);
  // BatchNorm settings a training step can use: momentum in [0, 1], eps > 0 and finite.
  if (bn_momentum && !(*bn_momentum >= 0.0f && *bn_momentum <= 1.0f))
    throw std::runtime_error("staticnet: " + label + ": metadata \"" + cd::key_bn_momentum + "\" = " +
                             cd::number_text(*bn_momentum) + " is not in [0, 1]");
  if (bn_eps && !(*bn_eps > 0.0f && std::isfinite(*bn_eps)))
    throw std::runtime_error("staticnet: " + label + ": metadata \"" + cd::key_bn_eps + "\" = " +
                             cd::number_text(*bn_eps) + " is not a finite value > 0");
  std::optional<std::pair<std::uint64_t, std::uint64_t>> dropout;
  if (f.metadata.count(cd::key_dropout_seed) && f.metadata.count(cd::key_dropout_steps))
    dropout.emplace(cd::required_number<std::uint64_t>(f.metadata, cd::key_dropout_seed, label),
                    cd::required_number<std::uint64_t>(f.metadata, cd::key_dropout_steps, label));

  // Commit.
  for (std::size_t i = 0; i < named.size(); ++i)
    if (!sources[i]->data.empty())
      std::memcpy(named[i].data.data(), sources[i]->data.data(), sources[i]->data.size() * sizeof(float));
  engine_detail::sync_from_host(model);
  if (bn_momentum) model.bn_momentum = *bn_momentum;
  if (bn_eps) model.bn_eps = *bn_eps;
  if constexpr (requires { model.set_dropout_state(std::uint64_t{}, std::uint64_t{}); }) {
    if (dropout) model.set_dropout_state(dropout->first, dropout->second);
  }
  info.metadata = std::move(f.metadata);
  info.ignored = std::move(ignored);
  for (auto& t : f.tensors)
    if (extra_names.count(t.name)) info.extras.push_back(std::move(t));
  return info;
}

}  // namespace checkpoint_detail

/// Loads a checkpoint into the model. Everything is read and checked before
/// the model is touched, so a failed load leaves it unchanged: every model
/// tensor must be present with its shape and dtype F32, the checkpoint may
/// hold no other tensors than the extras it lists in "staticnet.extra_tensors"
/// (and PyTorch's BatchNorm "num_batches_tracked", ignored), and its
/// architecture fingerprint, when present, must equal the model's. A mismatch
/// throws std::runtime_error listing the missing names, the unexpected names
/// and the shape mismatches ("C2.3.weight: checkpoint [64, 32, 1, 1], model
/// [64, 64, 1, 1]"). Also restores bn_momentum, bn_eps and the dropout state
/// when the checkpoint has them. Returns the metadata and the extra tensors.
template <engine M>
checkpoint_info load_checkpoint(const std::filesystem::path& path, M& model, const load_options& options = {}) {
  const std::string label = "checkpoint '" + path.string() + "'";
  return checkpoint_detail::load_file(safetensors::detail::read_file(path, label), label, model, options);
}

}  // namespace staticnet
