// src/cuda/loss.cu: log_softmax and the classification losses (mean
// reduction), CUDA, with cpu/activation.hpp's and cpu/loss.hpp's semantics
// (cuda/kernels.hpp). One warp per row (butterfly reductions: every lane holds
// the row's max and sums). The losses: the gradient in a grid-wide pass, the
// mean loss in a single block that sums the rows in a fixed order (each warp
// its rows in order, in double, then the warps in order) and writes it to the
// device float *loss; an empty batch writes NaN (as torch).
#include "common.cuh"

namespace staticnet::cuda::kernel {

using namespace detail;

namespace {

unsigned row_blocks(int rows) { return grid_for(static_cast<std::size_t>(rows), warps); }

/// The row's max m, log(sum exp(x - m)) and (when want_sum) sum of x, in every lane.
struct row_stats {
  float max, log_sum, sum;
};
__device__ row_stats stats_of(const float* xr, int cols, bool want_sum) {
  const int lane = lane_id();
  float m = arith::neg_inf();
  for (int j = lane; j < cols; j += 32) m = fmaxf(m, xr[j]);
  m = warp_max(m);
  float se = 0.0f, sx = 0.0f;
  for (int j = lane; j < cols; j += 32) {
    se += arith::exp_f(xr[j] - m);
    if (want_sum) sx += xr[j];
  }
  se = warp_sum(se);
  if (want_sum) sx = warp_sum(sx);
  return {m, arith::log_f(se), sx};
}

__global__ void __launch_bounds__(threads) log_softmax_forward_kernel(int rows, int cols, const float* x, float* y) {
  for (unsigned r = warp_id(); r < static_cast<unsigned>(rows); r += warp_count()) {
    const std::size_t off = static_cast<std::size_t>(r) * static_cast<std::size_t>(cols);
    const row_stats st = stats_of(x + off, cols, false);
    for (int j = lane_id(); j < cols; j += 32) y[off + j] = arith::log_softmax_value(x[off + j], st.max, st.log_sum);
  }
}

__global__ void __launch_bounds__(threads)
    log_softmax_backward_kernel(int rows, int cols, const float* y, const float* dy, float* dx) {
  for (unsigned r = warp_id(); r < static_cast<unsigned>(rows); r += warp_count()) {
    const std::size_t off = static_cast<std::size_t>(r) * static_cast<std::size_t>(cols);
    float s = 0.0f;
    for (int j = lane_id(); j < cols; j += 32) s += dy[off + j];
    s = warp_sum(s);
    for (int j = lane_id(); j < cols; j += 32) dx[off + j] = arith::log_softmax_grad(y[off + j], dy[off + j], s);
  }
}

/// Single block: writes mean_r loss_of(r) to *loss (NaN when n == 0).
template <class RowLoss>
__global__ void __launch_bounds__(threads) mean_loss_kernel(int n, RowLoss loss_of, float* loss) {
  __shared__ double part[warps];
  const int warp = static_cast<int>(threadIdx.x / 32u), lane = lane_id();
  double s = 0.0;
  for (int r = warp; r < n; r += warps) {
    const double v = loss_of(r);  // the same in every lane
    if (lane == 0) s += v;
  }
  if (lane == 0) part[warp] = s;
  __syncthreads();
  if (threadIdx.x == 0) {
    double total = 0.0;
    for (int k = 0; k < warps; ++k) total += part[k];
    *loss = arith::mean_loss(total, n);
  }
}

/// Launches mean_loss_kernel with a __device__ lambda row loss.
template <class RowLoss>
void launch_mean_loss(const char* name, cudaStream_t stream, int n, RowLoss f, float* loss) {
  mean_loss_kernel<<<1, threads, 0, stream>>>(n < 0 ? 0 : n, f, loss);
  check_launch(name);
}

__global__ void __launch_bounds__(threads)
    cross_entropy_grad_kernel(int n, int classes, const float* logits, const std::int32_t* target,
                              float label_smoothing, float* dlogits) {
  const float off = label_smoothing / static_cast<float>(classes);
  const float inv_n = 1.0f / static_cast<float>(n);
  for (unsigned r = warp_id(); r < static_cast<unsigned>(n); r += warp_count()) {
    const std::size_t base = static_cast<std::size_t>(r) * static_cast<std::size_t>(classes);
    const float* xr = logits + base;
    const row_stats st = stats_of(xr, classes, false);
    const float lse = st.max + st.log_sum;
    const int t = target[r];
    for (int j = lane_id(); j < classes; j += 32)
      dlogits[base + j] = arith::cross_entropy_grad(xr[j], lse, off, inv_n, j == t, label_smoothing);
  }
}

}  // namespace

void log_softmax_forward(cudaStream_t stream, int rows, int cols, const float* x, float* y) {
  if (rows <= 0 || cols <= 0) return;
  log_softmax_forward_kernel<<<row_blocks(rows), threads, 0, stream>>>(rows, cols, x, y);
  check_launch("log_softmax_forward");
}

void log_softmax_backward(cudaStream_t stream, int rows, int cols, const float* y, const float* dy, float* dx) {
  if (rows <= 0 || cols <= 0) return;
  log_softmax_backward_kernel<<<row_blocks(rows), threads, 0, stream>>>(rows, cols, y, dy, dx);
  check_launch("log_softmax_backward");
}

void nll_loss(cudaStream_t stream, int n, int classes, const float* logp, const std::int32_t* target, float* dlogp,
              float* loss) {
  if (n > 0 && classes > 0 && dlogp) {
    const float g = -1.0f / static_cast<float>(n);
    const std::size_t size = static_cast<std::size_t>(n) * static_cast<std::size_t>(classes);
    for_each_index("nll_loss", stream, size, [=] __device__(auto i) {
      using I = decltype(i);
      const I r = i / static_cast<I>(classes);
      const int j = static_cast<int>(i - r * static_cast<I>(classes));
      dlogp[i] = j == target[r] ? g : 0.0f;
    });
  }
  const std::size_t C = static_cast<std::size_t>(classes > 0 ? classes : 0);
  launch_mean_loss(
      "nll_loss", stream, classes > 0 ? n : 0,
      [=] __device__(int r) {
        const std::size_t row = static_cast<std::size_t>(r) * C;
        return -static_cast<double>(logp[row + static_cast<std::size_t>(target[r])]);
      },
      loss);
}

void cross_entropy(cudaStream_t stream, int n, int classes, const float* logits, const std::int32_t* target,
                   float label_smoothing, float* dlogits, float* loss) {
  if (n > 0 && classes > 0 && dlogits) {
    cross_entropy_grad_kernel<<<row_blocks(n), threads, 0, stream>>>(n, classes, logits, target, label_smoothing,
                                                                     dlogits);
    check_launch("cross_entropy");
  }
  const std::size_t C = static_cast<std::size_t>(classes > 0 ? classes : 0);
  launch_mean_loss(
      "cross_entropy", stream, classes > 0 ? n : 0,
      [=] __device__(int r) {
        const float* xr = logits + static_cast<std::size_t>(r) * C;
        const row_stats st = stats_of(xr, classes, label_smoothing != 0.0f);
        const float lse = st.max + st.log_sum;
        return arith::cross_entropy_row(xr[target[r]], lse, st.sum, classes, label_smoothing);
      },
      loss);
}

}  // namespace staticnet::cuda::kernel
