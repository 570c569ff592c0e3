// staticnet/train/pytorch.hpp: to PyTorch and back.
//
//   sn::export_pytorch<Net>(file, {.class_name = "S7Net"});   // a self-contained .py file
//
//   # python, with nothing but PyTorch:
//   import s7net; model = s7net.S7Net()
//   s7net.load_staticnet_checkpoint(model, "run/best.safetensors")   # strict
//   s7net.save_state_dict(model, "from_torch.safetensors")
//
//   sn::load_pytorch_state_dict("from_torch.safetensors", model);    // back into staticnet
//
// export_pytorch writes the source of the network's PyTorch form
// (torch_module.hpp): a class derived from nn.Module whose state_dict keys are
// staticnet's tensor names, so a checkpoint loads into it with
// load_state_dict(strict=True), plus a pure-Python safetensors reader and
// writer (json, struct, torch.frombuffer: the `safetensors` package is not
// needed). load_pytorch_state_dict reads a state_dict saved as safetensors
// and loads it when it fits the model exactly, refusing it otherwise with
// the missing, unexpected and mis-shaped names.
#pragma once
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <ostream>
#include <set>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "../engine/engine.hpp"
#include "../engine/tensor_names.hpp"
#include "../facts.hpp"
#include "../io/safetensors.hpp"
#include "../network.hpp"
#include "../summary.hpp"
#include "../torch_module.hpp"
#include "../version.hpp"
#include "checkpoint.hpp"

namespace staticnet {

/// Options of export_pytorch.
struct pytorch_export_options {
  std::string class_name = "Net";  ///< the model's class
  std::string title{};             ///< first line of its docstring (default: a description of the network)
  double bn_eps = 1e-5;            ///< nn.BatchNorm2d(eps=...) (a checkpoint's own values replace it on load)
  double bn_momentum = 0.1;        ///< nn.BatchNorm2d(momentum=...)
};

namespace pytorch_detail {

inline std::string number(double v) {
  char buf[64];
  const auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  std::string s(buf, ptr);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

inline std::string pair(int a, int b) {
  return a == b ? std::to_string(a) : "(" + std::to_string(a) + ", " + std::to_string(b) + ")";
}

inline bool is_identifier(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (const char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

inline const std::set<std::string_view>& reserved_names() {
  static const std::set<std::string_view> names{
      "Chain", "Branches", "Add", "Concat", "flatten", "log_softmax", "read_safetensors", "write_safetensors",
      "load_staticnet_checkpoint", "save_state_dict", "torch", "nn", "F", "json", "struct", "sys", "OrderedDict",
      // Python keywords and builtins a class name must not shadow
      "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
      "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda",
      "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield", "print", "object",
      "type", "len", "list", "dict", "str", "int", "float", "repr", "super", "isinstance", "getattr", "open"};
  return names;
}

/// The nn module expression of a layer row (the function name for flatten / log_softmax steps).
inline std::string layer_expr(const torch_node& n, const plan_row& r, const pytorch_export_options& o) {
  if (n.k == torch_node::kind::function) return n.class_name;
  const geometry& g = r.f.g;
  switch (r.desc.kind) {
    case op_kind::conv: {
      std::string s = "nn.Conv2d(" + std::to_string(r.in.c) + ", " + std::to_string(r.out.c) +
                      ", kernel_size=" + pair(g.kh, g.kw);
      if (g.sh != 1 || g.sw != 1) s += ", stride=" + pair(g.sh, g.sw);
      if (g.ph != 0 || g.pw != 0) s += ", padding=" + pair(g.ph, g.pw);
      if (g.dh != 1 || g.dw != 1) s += ", dilation=" + pair(g.dh, g.dw);
      if (r.f.groups != 1) s += ", groups=" + std::to_string(r.f.groups);
      if (!r.f.bias) s += ", bias=False";
      return s + ")";
    }
    case op_kind::batchnorm: {
      std::string s = "nn.BatchNorm2d(" + std::to_string(r.in.c);
      if (o.bn_eps != 1e-5) s += ", eps=" + number(o.bn_eps);
      if (o.bn_momentum != 0.1) s += ", momentum=" + number(o.bn_momentum);
      return s + ")";
    }
    case op_kind::relu: return "nn.ReLU()";
    case op_kind::dropout: return "nn.Dropout(p=" + number(r.desc.drop.value()) + ")";
    case op_kind::maxpool:
    case op_kind::avgpool: {
      const bool max = r.desc.kind == op_kind::maxpool;
      std::string s = std::string(max ? "nn.MaxPool2d(" : "nn.AvgPool2d(") + "kernel_size=" + pair(g.kh, g.kw);
      if (g.sh != g.kh || g.sw != g.kw) s += ", stride=" + pair(g.sh, g.sw);
      if (g.ph != 0 || g.pw != 0) s += ", padding=" + pair(g.ph, g.pw);
      if (max && (g.dh != 1 || g.dw != 1)) s += ", dilation=" + pair(g.dh, g.dw);
      if (r.desc.p.ceil_mode) s += ", ceil_mode=True";
      if (!max && !r.desc.p.count_include_pad) s += ", count_include_pad=False";
      return s + ")";
    }
    case op_kind::global_avgpool: return "nn.AdaptiveAvgPool2d(1)";
    case op_kind::flatten: return "nn.Flatten()";
    case op_kind::linear:
      return "nn.Linear(" + std::to_string(r.in.c) + ", " + std::to_string(r.out.c) + (r.f.bias ? ")" : ", bias=False)");
    case op_kind::log_softmax: return "nn.LogSoftmax(dim=1)";
    case op_kind::zero_pad: {
      const pad& z = r.desc.zp;
      if (z.left == z.right && z.left == z.top && z.left == z.bottom) return "nn.ZeroPad2d(" + std::to_string(z.left) + ")";
      return "nn.ZeroPad2d((" + std::to_string(z.left) + ", " + std::to_string(z.right) + ", " + std::to_string(z.top) +
             ", " + std::to_string(z.bottom) + "))";
    }
    case op_kind::identity: return "nn.Identity()";
    default: break;
  }
  throw std::logic_error("staticnet: export_pytorch: no PyTorch module for op " + std::string(kind_name(r.desc.kind)));
}

struct writer {
  std::span<const plan_row> rows;
  const pytorch_export_options& o;
  std::ostringstream out;

  static std::string ind(int n) { return std::string(static_cast<std::size_t>(n) * 4, ' '); }

  /// Writes the expression of `n` starting at the current position; its
  /// continuation lines are indented by `level`. `tail` follows it (",", ")").
  void expr(const torch_node& n, int level, const std::string& tail) {
    switch (n.k) {
      case torch_node::kind::layer:
      case torch_node::kind::function:
        out << layer_expr(n, rows[static_cast<std::size_t>(n.row)], o) << tail << "  # " << n.path << "\n";
        return;
      case torch_node::kind::sequential: {
        if (n.children.empty()) {
          out << "nn.Sequential()" << tail << "\n";
          return;
        }
        bool positional = true;
        for (std::size_t i = 0; i < n.children.size(); ++i)
          if (n.children[i].name != std::to_string(i)) positional = false;
        if (positional) {
          out << "nn.Sequential(\n";
          for (const torch_node& c : n.children) {
            out << ind(level + 1);
            expr(c, level + 1, ",");
          }
          out << ind(level) << ")" << tail << "\n";
        } else {
          out << "nn.Sequential(OrderedDict([\n";
          for (const torch_node& c : n.children) {
            out << ind(level + 1) << "(\"" << c.name << "\", ";
            expr(c, level + 1, "),");
          }
          out << ind(level) << "]))" << tail << "\n";
        }
        return;
      }
      case torch_node::kind::module: {
        if (n.children.empty()) {
          out << n.class_name << "()" << tail << "  # " << n.path << "\n";
          return;
        }
        out << n.class_name << "(  # " << n.path << "\n";
        steps(n, level + 1);
        out << ind(level) << ")" << tail << "\n";
        return;
      }
      case torch_node::kind::add:
      case torch_node::kind::concat: {
        out << n.class_name << "(  # " << n.path << "\n";
        for (const torch_node& b : n.children.front().children) {
          out << ind(level + 1);
          expr(b, level + 1, ",");
        }
        out << ind(level) << ")" << tail << "\n";
        return;
      }
      case torch_node::kind::branches:
      case torch_node::kind::model: break;
    }
    throw std::logic_error("staticnet: export_pytorch: unexpected node " + n.class_name);
  }

  /// Chain steps: ("name", expr), one per child.
  void steps(const torch_node& n, int level) {
    for (const torch_node& c : n.children) {
      out << ind(level) << "(\"" << c.name << "\", ";
      expr(c, level, "),");
    }
  }
};

inline void check_names(const torch_node& n) {
  std::set<std::string> seen;
  for (const torch_node& c : n.children) {
    if (c.name.empty() || c.name.find('.') != std::string::npos)
      throw std::invalid_argument("staticnet: export_pytorch: \"" + c.name + "\" (in \"" + n.path +
                                  "\") is not a PyTorch module name: it is empty or holds a '.'");
    if (!seen.insert(c.name).second)
      throw std::invalid_argument("staticnet: export_pytorch: two modules named \"" + c.name + "\" in \"" +
                                  (n.path.empty() ? std::string("the network") : n.path) +
                                  "\" (two blocks of the same name?)");
    check_names(c);
  }
}

/// The Module classes, in order of first use.
inline void collect_modules(const torch_node& n, std::vector<std::string>& out) {
  if (n.k == torch_node::kind::module && std::find(out.begin(), out.end(), n.class_name) == out.end())
    out.push_back(n.class_name);
  for (const torch_node& c : n.children) collect_modules(c, out);
}

inline void collect_paths(const torch_node& n, std::vector<std::string>& out) {
  if (n.k == torch_node::kind::layer || n.k == torch_node::kind::function) out.push_back(n.path);
  for (const torch_node& c : n.children) collect_paths(c, out);
}

// The helpers every exported file defines (after its imports).
inline constexpr std::string_view helpers = R"PY(

def flatten(x):
    """staticnet's Flatten directly in a network: torch.flatten(x, 1)."""
    return torch.flatten(x, 1)


def log_softmax(x):
    """staticnet's LogSoftmax directly in a network: over the channels."""
    return F.log_softmax(x, dim=1)


class Chain(nn.Module):
    """Applies its steps in order: modules, registered under staticnet's names,
    and the functions flatten / log_softmax (not modules: torchsummary prints
    no row for them, as for torch.flatten / F.log_softmax in a forward)."""

    def __init__(self, *steps):
        super().__init__()
        self._steps = []
        for name, step in steps:
            if isinstance(step, nn.Module):
                self.add_module(name, step)
            self._steps.append(step)

    def forward(self, x):
        for step in self._steps:
            x = step(x)
        return x


class Branches(nn.Sequential):
    """The branches of an Add / Concat (nn.Sequentials "0", "1", ...), each fed the input."""

    def forward(self, x):
        return [branch(x) for branch in self]


class Add(nn.Sequential):
    """staticnet's Add: the sum of its branches (Residual: Add(nn.Sequential(), body)).
    An nn.Sequential subclass only so that torchsummary prints no row for the
    merge, which staticnet counts as x + y in a forward."""

    def __init__(self, *branches):
        super().__init__()
        self.branches = Branches(*branches)

    def forward(self, x):
        ys = self.branches(x)
        y = ys[0]
        for other in ys[1:]:
            y = y + other
        return y


class Concat(nn.Sequential):
    """staticnet's Concat: its branches concatenated along the channels."""

    def __init__(self, *branches):
        super().__init__()
        self.branches = Branches(*branches)

    def forward(self, x):
        return torch.cat(self.branches(x), dim=1)
)PY";

inline constexpr std::string_view io_functions = R"PY(

# ------------------------------------------------------------ safetensors --
_DTYPES = OrderedDict([
    ("F64", (torch.float64, 8)), ("F32", (torch.float32, 4)), ("F16", (torch.float16, 2)),
    ("BF16", (torch.bfloat16, 2)), ("I64", (torch.int64, 8)), ("I32", (torch.int32, 4)),
    ("I16", (torch.int16, 2)), ("I8", (torch.int8, 1)), ("U8", (torch.uint8, 1)), ("BOOL", (torch.bool, 1)),
])
_DTYPE_NAMES = {dtype: name for name, (dtype, _) in _DTYPES.items()}


def read_safetensors(path):
    """(OrderedDict name -> tensor in file order, metadata dict) of a safetensors
    file, read with json, struct and torch.frombuffer only."""
    if sys.byteorder != "little":
        raise ValueError("read_safetensors: big-endian hosts are not supported")
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError("%s: not a safetensors file (%d bytes)" % (path, len(blob)))
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob):
        raise ValueError("%s: the header length %d runs past the end of the file" % (path, n))
    header = json.loads(blob[8:8 + n].decode("utf-8"), object_pairs_hook=OrderedDict)
    metadata = header.pop("__metadata__", None) or {}
    data = memoryview(blob)[8 + n:]
    entries = []
    for name, info in header.items():
        if info.get("dtype") not in _DTYPES:
            raise ValueError("%s: tensor %r has an unsupported dtype %r" % (path, name, info.get("dtype")))
        dtype, size = _DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        numel = 1
        for d in info["shape"]:
            numel *= d
        if not 0 <= begin <= end <= len(data) or end - begin != numel * size:
            raise ValueError("%s: tensor %r: data_offsets %r do not fit its shape %r"
                             % (path, name, info["data_offsets"], info["shape"]))
        entries.append((begin, name, dtype, info["shape"], end))
    tensors = OrderedDict()
    for begin, name, dtype, shape, end in sorted(entries, key=lambda e: e[0]):
        raw = bytearray(data[begin:end])
        t = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(shape)
    return tensors, metadata


def write_safetensors(path, tensors, metadata=None):
    """Writes name -> tensor (any of the format's dtypes) as a safetensors file
    with string metadata; the data starts 8-byte aligned."""
    header = OrderedDict()
    if metadata:
        header["__metadata__"] = OrderedDict((str(k), str(v)) for k, v in metadata.items())
    chunks, offset = [], 0
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        if t.dtype not in _DTYPE_NAMES:
            raise ValueError("write_safetensors: %r has dtype %s, which safetensors has no name for" % (name, t.dtype))
        raw = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = OrderedDict([("dtype", _DTYPE_NAMES[t.dtype]), ("shape", list(t.shape)),
                                    ("data_offsets", [offset, offset + len(raw)])])
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for chunk in chunks:
            f.write(chunk)


def load_staticnet_checkpoint(model, path):
    """Loads a staticnet checkpoint (staticnet's save_checkpoint) into the
    model with load_state_dict(strict=True): every parameter and buffer, and
    nothing else but the extra tensors the checkpoint declares (optimizer
    state), which are returned. BatchNorm's num_batches_tracked, which
    staticnet does not keep, stays the model's; BatchNorm eps and momentum are
    the checkpoint's. Returns (metadata, extras)."""
    tensors, metadata = read_safetensors(path)
    fingerprint = metadata.get("staticnet.fingerprint")
    mine = getattr(model, "staticnet_fingerprint", None)
    if fingerprint and mine and fingerprint != mine:
        raise ValueError("%s was saved from another architecture: fingerprint %s, this module %s"
                         % (path, fingerprint, mine))
    extra_names = json.loads(metadata.get("staticnet.extra_tensors", "[]"))
    extras = OrderedDict((name, tensors.pop(name)) for name in extra_names if name in tensors)
    for key, value in model.state_dict().items():
        if key.endswith(".num_batches_tracked") and key not in tensors:
            tensors[key] = value
    model.load_state_dict(tensors, strict=True)
    eps, momentum = metadata.get("staticnet.bn_eps"), metadata.get("staticnet.bn_momentum")
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            if eps is not None:
                m.eps = float(eps)
            if momentum is not None:
                m.momentum = float(momentum)
    return metadata, extras


def save_state_dict(model, path, metadata=None):
    """Writes model.state_dict() as safetensors for staticnet's
    load_pytorch_state_dict (num_batches_tracked included: staticnet ignores
    it), with the network's architecture fingerprint and the BatchNorm eps and
    momentum (when every BatchNorm2d has the same)."""
    meta = OrderedDict([("format", "pt")])
    fingerprint = getattr(model, "staticnet_fingerprint", None)
    if fingerprint:
        meta["staticnet.fingerprint"] = fingerprint
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    if bns and bns[0].momentum is not None and all(
            m.eps == bns[0].eps and m.momentum == bns[0].momentum for m in bns):
        meta["staticnet.bn_eps"] = repr(float(bns[0].eps))
        meta["staticnet.bn_momentum"] = repr(float(bns[0].momentum))
    meta.update(metadata or {})
    write_safetensors(path, model.state_dict(), meta)
)PY";

}  // namespace pytorch_detail

/// Writes the Python source of the network's PyTorch form (torch_module.hpp):
/// the model class (options.class_name, an nn.Module) with the helpers it
/// uses, whose state_dict keys are staticnet's tensor names; and
/// read_safetensors / write_safetensors, load_staticnet_checkpoint(model, path)
/// and save_state_dict(model, path). The file needs only PyTorch (>= 1.10).
/// Every Module<"Name", ...> is a class Name of its own (a Chain). Throws
/// std::invalid_argument for a class name that is not a Python identifier
/// (or shadows a name the file defines, or a Module's) and for block names
/// PyTorch refuses (empty, with a '.', two alike in one container).
template <network Net>
void export_pytorch(std::ostream& os, const pytorch_export_options& options = {}) {
  namespace pd = pytorch_detail;
  if (!pd::is_identifier(options.class_name) || pd::reserved_names().count(options.class_name))
    throw std::invalid_argument("staticnet: export_pytorch: the class name \"" + options.class_name +
                                "\" is not a Python identifier, or is a name the exported file uses");
  constexpr auto& pl = Net::plan;
  const std::span<const plan_row> rows(pl.rows);
  const torch_node tree = torch_module_tree(pl, options.class_name);
  pd::check_names(tree);
  std::vector<std::string> modules;
  pd::collect_modules(tree, modules);
  for (const std::string& m : modules)
    if (m == options.class_name || pd::reserved_names().count(m))
      throw std::invalid_argument("staticnet: export_pytorch: the Module \"" + m + "\" has the name of " +
                                  (m == options.class_name ? "the model's class (choose another class_name)"
                                                           : "a name the exported file uses"));
  {  // the module paths are the checkpoint's names
    std::vector<std::string> paths;
    pd::collect_paths(tree, paths);
    std::vector<std::string> names;
    for (const std::string& n : layer_names<Net>())
      if (!n.empty()) names.push_back(n);
    if (paths != names) throw std::logic_error("staticnet: export_pytorch: module paths differ from the tensor names");
  }
  const auto shape_text = [](const shape& s) {
    return s.flat ? std::to_string(s.c)
                  : std::to_string(s.c) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w);
  };
  std::string title;  // the docstring's first line, its backslashes and quotes escaped
  for (const char c : options.title.empty() ? std::string("A staticnet network in PyTorch.") : options.title) {
    if (c == '\\' || c == '"') title += '\\';
    title += c == '\n' ? ' ' : c;
  }
  os << "# Generated by staticnet " << STATICNET_VERSION << " (export_pytorch): the PyTorch form of a staticnet\n"
     << "# network, class " << options.class_name << ". Its state_dict keys are staticnet's tensor names:\n"
     << "#   model = " << options.class_name << "(); load_staticnet_checkpoint(model, \"best.safetensors\")\n"
     << "# loads a staticnet checkpoint, and save_state_dict(model, \"model.safetensors\") writes a file\n"
     << "# that staticnet's load_pytorch_state_dict reads. Needs only PyTorch (>= 1.10).\n"
     << "import json\nimport struct\nimport sys\nfrom collections import OrderedDict\n\n"
     << "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
     << pd::helpers << "\n\n";
  for (const std::string& m : modules)
    os << "class " << m << "(Chain):\n"
       << "    \"\"\"staticnet's Module<\"" << m << "\", ...>: its steps, in order.\"\"\"\n\n\n";
  os << "class " << options.class_name << "(Chain):\n"
     << "    \"\"\"" << title << "\n\n"
     << "    Input " << shape_text(pl.input) << ", output " << shape_text(pl.output) << "; "
     << detail::with_commas(pl.params) << " parameters, " << detail::with_commas(pl.buffers)
     << " BatchNorm buffer values; receptive field " << pl.rf_h << (pl.rf_h == pl.rf_w ? "" : "x" + std::to_string(pl.rf_w))
     << ".\n    \"\"\"\n\n"
     << "    staticnet_fingerprint = \"" << architecture_fingerprint<Net>() << "\"\n"
     << "    input_shape = (" << pl.input.c << ", " << pl.input.h << ", " << pl.input.w << ")\n\n"
     << "    def __init__(self):\n"
     << "        super().__init__(\n";
  pd::writer w{rows, options, {}};
  w.steps(tree, 3);
  os << w.out.str() << "        )\n" << pd::io_functions << "\n\n"
     << "if __name__ == \"__main__\":\n"
     << "    model = " << options.class_name << "()\n"
     << "    if len(sys.argv) > 1:\n"
     << "        load_staticnet_checkpoint(model, sys.argv[1])\n"
     << "        print(\"loaded\", sys.argv[1])\n"
     << "    print(model)\n"
     << "    print(\"%d parameters\" % sum(p.numel() for p in model.parameters()))\n";
}

/// export_pytorch into a string.
template <network Net>
[[nodiscard]] std::string pytorch_source(const pytorch_export_options& options = {}) {
  std::ostringstream os;
  export_pytorch<Net>(os, options);
  return os.str();
}

namespace pytorch_detail {

inline float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const int exp = (h >> 10) & 0x1f;
  const std::uint32_t mant = h & 0x3ffu;
  float v;
  if (exp == 0) v = std::ldexp(static_cast<float>(mant), -24);
  else if (exp == 31) v = mant ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  else v = std::ldexp(static_cast<float>(mant | 0x400u), exp - 25);
  return sign ? -v : v;
}

/// F64, F16 and BF16 tensors converted to F32 (little-endian bytes).
inline void to_f32(safetensors::tensor& t) {
  const std::size_t n = static_cast<std::size_t>(t.numel());
  std::vector<float> out(n);
  const std::uint8_t* b = t.bytes.data();
  for (std::size_t i = 0; i < n; ++i) {
    if (t.dtype == "F64") {
      std::uint64_t u = 0;
      for (int k = 7; k >= 0; --k) u = (u << 8) | b[i * 8 + static_cast<std::size_t>(k)];
      double d;
      std::memcpy(&d, &u, sizeof d);
      out[i] = static_cast<float>(d);
    } else {
      const auto u = static_cast<std::uint16_t>(b[i * 2] | (b[i * 2 + 1] << 8));
      if (t.dtype == "F16") {
        out[i] = half_to_float(u);
      } else {  // BF16: the high half of an F32
        const std::uint32_t f = static_cast<std::uint32_t>(u) << 16;
        std::memcpy(&out[i], &f, sizeof(float));
      }
    }
  }
  t.data = std::move(out);
  t.bytes.clear();
  t.dtype = "F32";
}

}  // namespace pytorch_detail

/// Options of load_pytorch_state_dict: load_checkpoint's, and whether F64,
/// F16 and BF16 parameters and buffers are converted to F32 (else refused).
struct pytorch_load_options : load_options {
  bool convert_dtypes = true;
};

/// Loads a PyTorch state_dict saved as safetensors (the exported module's
/// save_state_dict, or `safetensors.torch.save_file(model.state_dict(), path)`)
/// into the model, with load_checkpoint's checks: the names and shapes must
/// be exactly the model's (BatchNorm's num_batches_tracked is ignored), else
/// std::runtime_error lists the missing, unexpected and mis-shaped names (and
/// a prefix such as nn.DataParallel's "module." when every name carries it);
/// a fingerprint in the metadata (save_state_dict writes the exported
/// module's) must be the model's. Nothing changes when it throws.
template <engine M>
checkpoint_info load_pytorch_state_dict(const std::filesystem::path& path, M& model,
                                        const pytorch_load_options& options = {}) {
  const std::string label = "PyTorch state_dict '" + path.string() + "'";
  safetensors::file f = safetensors::detail::read_file(path, label);
  if (options.convert_dtypes)
    for (safetensors::tensor& t : f.tensors)
      if (t.dtype == "F64" || t.dtype == "F16" || t.dtype == "BF16") pytorch_detail::to_f32(t);
  return checkpoint_detail::load_file(std::move(f), label, model, options);
}

}  // namespace staticnet
