"""torchsummary's and torchinfo's tables, reproduced with PyTorch alone.

Neither package is needed (nor packaged by Debian): these functions follow the
arithmetic and the layout of their sources, for the modules staticnet's PyTorch
form uses (include/staticnet/torch_module.hpp):

  torchsummary(model, (C, H, W))
      torchsummary 1.5.1 (pip; sksq96/pytorch-summary): a forward hook on
      every module but nn.Sequential (and its subclasses), nn.ModuleList and
      the model itself; one row per call, in the order the calls return (a
      custom module's row comes after its children's); "Param #" counts the
      module's own `weight` and `bias` only (a custom module has 0); the forward
      pass runs on a batch of 2 and the shapes print with -1 for the batch;
      sizes in MB of 2^20 bytes: input elements x 4, 2 x (sum of the rows' output
      elements) x 4, parameters x 4, and the sum (params + outputs + input).

  torchinfo(model, (1, C, H, W))
      torchinfo 1.8.0 (pip; TylerYep/torchinfo) with its defaults (depth 3,
      columns output_size and num_params, width 25, row setting "depth"): a
      pre-hook creates each module's row when it is called (so a container's
      row comes before its children's), the model included, at its depth;
      "depth-idx" numbers the rows of each depth in order over the whole table;
      "Param #" is a leaf's parameter count, "--" for a container (its own
      leftover parameters, none here) unless it sits at the last shown depth,
      which shows everything inside; total mult-adds = sum over leaf modules of
      (conv weight and bias: count x output positions; other parameters: count
      x batch); "Forward/backward pass size" = 2 x the output bytes of the leaf
      modules that have parameters; MB are 10^6 bytes. The input size is
      4 bytes per element (torchinfo's sys.getsizeof of the input's storage
      adds the Python object's few dozen bytes, which changes no printed figure
      here: `check_input_overhead` checks that).

Modules torchinfo handles specially (nn.ModuleList, modules never called,
modules called twice) are not reproduced: they raise NotImplementedError.
"""
import math
import sys
from collections import OrderedDict

import torch
import torch.nn as nn


# ---------------------------------------------------------------- torchsummary --
def torchsummary(model, input_size, batch_size=-1):
    """The text torchsummary.summary(model, input_size) prints (1.5.1): its
    table, then the empty line of print() after the table's last newline."""
    rows = OrderedDict()
    hooks = []

    def hook(module, inputs, output):
        class_name = str(module.__class__).split(".")[-1].split("'")[0]
        key = "%s-%i" % (class_name, len(rows) + 1)
        if isinstance(output, (list, tuple)):
            raise NotImplementedError("torchsummary row %s: a list output" % key)
        shape = list(output.size())
        shape[0] = batch_size
        params, trainable = 0, None
        weight, bias = getattr(module, "weight", None), getattr(module, "bias", None)
        if weight is not None and hasattr(weight, "size"):
            params += int(weight.numel())
            trainable = weight.requires_grad
        if bias is not None and hasattr(bias, "size"):
            params += int(bias.numel())
        rows[key] = (shape, params, trainable)

    def register(module):
        if not isinstance(module, (nn.Sequential, nn.ModuleList)) and module is not model:
            hooks.append(module.register_forward_hook(hook))

    model.apply(register)
    was_training = model.training
    try:
        with torch.no_grad():
            model(torch.rand(2, *input_size))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)

    line, dline = "-" * 64, "=" * 64
    out = [line, "{:>20}  {:>25} {:>15}".format("Layer (type)", "Output Shape", "Param #"), dline]
    total_params = total_output = trainable_params = 0
    for key, (shape, params, trainable) in rows.items():
        out.append("{:>20}  {:>25} {:>15}".format(key, str(shape), "{0:,}".format(params)))
        total_params += params
        total_output += math.prod(shape)
        if trainable:
            trainable_params += params
    input_mb = abs(math.prod(input_size) * batch_size * 4. / (1024 ** 2.))
    output_mb = abs(2. * total_output * 4. / (1024 ** 2.))
    params_mb = abs(total_params * 4. / (1024 ** 2.))
    total_mb = params_mb + output_mb + input_mb
    out += [dline,
            "Total params: {0:,}".format(total_params),
            "Trainable params: {0:,}".format(trainable_params),
            "Non-trainable params: {0:,}".format(total_params - trainable_params),
            line,
            "Input size (MB): %0.2f" % input_mb,
            "Forward/backward pass size (MB): %0.2f" % output_mb,
            "Params size (MB): %0.2f" % params_mb,
            "Estimated Total Size (MB): %0.2f" % total_mb,
            line]
    return "\n".join(out) + "\n\n"


# ------------------------------------------------------------------- torchinfo --
class _Row:
    def __init__(self, module, depth):
        self.module = module
        self.class_name = module.__class__.__name__
        self.depth = depth
        self.depth_index = None
        self.children = []
        self.is_leaf = not any(module.children())
        self.num_params = sum(p.numel() for p in module.parameters())
        self.trainable_params = sum(p.numel() for p in module.parameters() if p.requires_grad)
        self.param_bytes = sum(p.numel() * p.element_size() for p in module.parameters())
        self.output_size = []
        self.output_bytes = 0
        self.macs = 0
        self.executed = False

    def calculate_macs(self):
        for name, param in self.module.named_parameters():
            n = param.numel()
            if name in ("weight", "bias"):
                if "Conv" in self.class_name:  # the output positions, times the batch
                    self.macs += n * math.prod(self.output_size[:1] + self.output_size[2:])
                else:
                    self.macs += self.output_size[0] * n
            elif "weight" in name or "bias" in name:
                self.macs += math.prod(self.output_size[:2]) * n

    def leftover_params(self):
        return self.num_params - sum(c.num_params if c.is_leaf else c.leftover_params() for c in self.children)

    def leftover_trainable_params(self):
        return self.trainable_params - sum(
            c.trainable_params if c.is_leaf else c.leftover_trainable_params() for c in self.children)

    def name(self):
        if self.depth == 0:
            return self.class_name
        return "%s: %d-%d" % (self.class_name, self.depth, self.depth_index)

    def params_text(self, reached_max_depth):
        if self.num_params == 0:
            return "--"
        if reached_max_depth or self.is_leaf:
            text = "{:,}".format(self.num_params)
            return text if self.trainable_params else "(%s)" % text
        leftover = self.leftover_params()
        return "{:,}".format(leftover) if leftover > 0 else "--"


def _size_of(output):
    if isinstance(output, torch.Tensor):
        return list(output.size()), output.element_size()
    if isinstance(output, (list, tuple)) and output and isinstance(output[0], torch.Tensor):
        return list(output[0].size()), output[0].element_size()
    raise NotImplementedError("an output torchinfo's size of is not reproduced: %r" % type(output))


def torchinfo_rows(model, input_size):
    """The rows torchinfo records (pre-hook order) after one forward pass."""
    rows, seen, hooks = [], set(), []

    def register(module, depth):
        if isinstance(module, (nn.ModuleList, nn.ParameterList)):
            raise NotImplementedError("torchinfo's handling of %s is not reproduced" % type(module).__name__)
        state = {}

        def pre_hook(m, inputs):
            if id(m) in seen:
                raise NotImplementedError("a module called twice (torchinfo's '(recursive)')")
            seen.add(id(m))
            state["row"] = _Row(m, depth)
            rows.append(state["row"])

        def hook(m, inputs, output):
            row = state["row"]
            row.output_size, elem = _size_of(output)
            row.output_bytes = elem * math.prod(row.output_size)
            row.calculate_macs()
            row.executed = True

        hooks.append(module.register_forward_pre_hook(pre_hook))
        hooks.append(module.register_forward_hook(hook))
        for child in module._modules.values():
            if child is not None:
                register(child, depth + 1)

    register(model, 0)
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.rand(*input_size))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    if len(rows) != sum(1 for _ in model.modules()):
        raise NotImplementedError("modules that are never called (torchinfo adds them as containers)")
    counters = {}
    for i, row in enumerate(rows):
        counters[row.depth] = counters.get(row.depth, 0) + 1
        row.depth_index = counters[row.depth]
        j = i + 1
        while j < len(rows) and rows[j].depth > row.depth:
            j += 1
        row.children = rows[i + 1:j]
    return rows


def torchinfo(model, input_size, depth=3, col_width=25, input_bytes=None):
    """The text torchinfo.summary(model, input_size) prints (1.8.0, defaults)."""
    rows = torchinfo_rows(model, input_size)
    total_params = trainable = mult_adds = output_bytes = param_bytes = 0
    for row in rows:
        if row.is_leaf:
            mult_adds += row.macs
            if row.num_params > 0:
                output_bytes += row.output_bytes * 2
            total_params += row.num_params
            param_bytes += row.param_bytes
            trainable += row.trainable_params
        else:
            total_params += max(row.leftover_params(), 0)
            trainable += max(row.leftover_trainable_params(), 0)
    if input_bytes is None:
        input_bytes = 4 * math.prod(input_size)

    name_width = 40
    longest = max(len(r.name()) + r.depth * 5 + 1 for r in rows)
    if longest >= name_width:
        name_width = math.ceil(longest / 5) * 5
    width = 2 * col_width + name_width

    def fmt(name, values):
        line = "%s " % name.ljust(name_width)
        for v in values:
            line += "%s " % v.ljust(col_width)
        return line.rstrip()

    def start(d):
        return "" if d == 0 else "├─" if d == 1 else "│    " * (d - 1) + "└─"

    out = ["=" * width, fmt("Layer (type:depth-idx)", ["Output Shape", "Param #"]), "=" * width]
    for row in rows:
        if row.depth > depth:
            continue
        out.append(fmt(start(row.depth) + row.name(),
                       [str(row.output_size) if row.output_size else "--", row.params_text(row.depth == depth)]))
    if mult_adds >= 1e12:
        unit, macs = "T", mult_adds / 1e12
    elif mult_adds >= 1e9:
        unit, macs = "G", mult_adds / 1e9
    else:
        unit, macs = "M", mult_adds / 1e6
    out += ["=" * width,
            "Total params: {:,}".format(total_params),
            "Trainable params: {:,}".format(trainable),
            "Non-trainable params: {:,}".format(total_params - trainable),
            "Total mult-adds (%s): %0.2f" % (unit, macs),
            "=" * width,
            "Input size (MB): %0.2f" % (input_bytes / 1e6),
            "Forward/backward pass size (MB): %0.2f" % (output_bytes / 1e6),
            "Params size (MB): %0.2f" % (param_bytes / 1e6),
            "Estimated Total Size (MB): %0.2f" % ((input_bytes + output_bytes + param_bytes) / 1e6),
            "=" * width]
    return "\n".join(out) + "\n"


def check_input_overhead(model, input_size):
    """torchinfo's own input size, sys.getsizeof(x.storage()), prints the same table."""
    x = torch.rand(*input_size)
    storage = x.untyped_storage() if hasattr(x, "untyped_storage") else x.storage()
    return torchinfo(model, input_size) == torchinfo(model, input_size, input_bytes=sys.getsizeof(storage))
