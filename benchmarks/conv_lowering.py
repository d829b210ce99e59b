"""One convolution, three ways: XLA's `lax.conv`, the im2col matmul, and PyTorch (oneDNN).

  python benchmarks/conv_lowering.py [--batch=64] [--steps=8]

For each shape (the configs' typical ones), the jitted forward and forward + backward (input
and kernel gradients of sum(y²)) of a 'SAME', stride-1 convolution, NHWC, float32:
- `lax`: `jax.lax.conv_general_dilated`, what `nn.Conv` runs;
- `matmul`: `layers.conv_as_matmul` (im2col: the shifted copies stacked along the channels,
  then one matrix product), what `layers.Conv` runs on CPU where `prefers_matmul` says;
- `torch`: `torch.nn.functional.conv2d`, channels-last, `set_num_threads(cpu_count)` (if
  PyTorch is installed: `pip install -e ".[bench]"`).
The `auto` column says which of the first two `layers.Conv` picks. This is also the minimal
reproduction of what holds the JAX train steps back on CPU: on large maps both JAX lowerings are
slower than oneDNN's direct convolution — `lax.conv`'s gradient, and im2col's copies, which
move 9× the input through memory.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from jax import lax  # noqa: E402

from inpaintjax.models import layers  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sampler import best_seconds  # noqa: E402

try:
  import torch  # pylint: disable=g-import-not-at-top
except ImportError:
  torch = None

SHAPES = [  # (H = W, in channels, out channels, kernel)
    (1, 256, 256, 3), (2, 256, 256, 3), (2, 512, 256, 3), (4, 256, 256, 3), (4, 128, 128, 3),
    (8, 128, 128, 3), (8, 64, 64, 3), (16, 64, 64, 3), (16, 32, 32, 3), (16, 4, 32, 3),
    (32, 32, 32, 3), (32, 60, 60, 3), (32, 3, 32, 3), (32, 3, 64, 5), (32, 60, 768, 1),
]


def best_ms(fn, steps: int) -> float:
  """ms per call of `fn`, the best of `steps` after one warm-up call (the compile)."""
  fn()
  return 1000 * best_seconds(fn, steps)


def jax_times(conv, x, w, steps):
  fwd = jax.jit(conv)
  grad = jax.jit(jax.grad(lambda x, w: jnp.sum(conv(x, w) ** 2), argnums=(0, 1)))
  return best_ms(lambda: fwd(x, w), steps), best_ms(lambda: grad(x, w), steps)


def torch_times(x_nhwc, w_hwio, steps):
  x = torch.from_numpy(jax.device_get(x_nhwc)).permute(0, 3, 1, 2).contiguous(
      memory_format=torch.channels_last).requires_grad_()
  w = torch.from_numpy(jax.device_get(w_hwio)).permute(3, 2, 0, 1).contiguous().requires_grad_()
  pad = w.shape[-1] // 2

  def fwd():
    with torch.no_grad():
      torch.nn.functional.conv2d(x, w, padding=pad)

  def grad():
    x.grad = w.grad = None
    (torch.nn.functional.conv2d(x, w, padding=pad) ** 2).sum().backward()

  return best_ms(fwd, steps), best_ms(grad, steps)


def main() -> None:
  p = argparse.ArgumentParser(description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument('--batch', type=int, default=64)
  p.add_argument('--steps', type=int, default=8)
  args = p.parse_args()
  if torch is not None:
    torch.set_num_threads(os.cpu_count())
  lax_conv = lambda x, w: lax.conv_general_dilated(x, w, (1, 1), 'SAME',
                                                   dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
  matmul_conv = lambda x, w: layers.conv_as_matmul(x, w, (1, 1), 'SAME')
  print(f'batch {args.batch}, {jax.devices()[0].platform}, {os.cpu_count()} cores; ms, best of '
        f'{args.steps}; fwd / fwd+bwd\n')
  print('| map | channels | kernel | auto | lax | matmul | torch | best JAX / torch (fwd+bwd) |')
  print('|---|---|---|---|---:|---:|---:|---:|')
  for size, cin, cout, k in SHAPES:
    x = jax.random.normal(jax.random.PRNGKey(0), (args.batch, size, size, cin))
    w = jax.random.normal(jax.random.PRNGKey(1), (k, k, cin, cout)) * 0.05
    t_lax, t_mm = jax_times(lax_conv, x, w, args.steps), jax_times(matmul_conv, x, w, args.steps)
    auto = 'matmul' if layers.prefers_matmul(size * size, cin, k * k) else 'lax'
    t_torch, ratio = ('—', '—'), '—'
    if torch is not None:
      t_torch = torch_times(x, w, args.steps)
      ratio = f'{min(t_lax[1], t_mm[1]) / t_torch[1]:.2f}'
      t_torch = tuple(f'{t:.1f}' for t in t_torch)
    print(f'| {size}×{size} | {cin}→{cout} | {k}×{k} | {auto} | {t_lax[0]:.1f} / {t_lax[1]:.1f} '
          f'| {t_mm[0]:.1f} / {t_mm[1]:.1f} | {t_torch[0]} / {t_torch[1]} | {ratio} |', flush=True)


if __name__ == '__main__':
  main()
