"""Images per second of the autoregressive hole sampler, against the plain per-sub-pixel loop.

  python benchmarks/sampler.py [--models=pixelcnn,gated,row_lstm,diagonal_bilstm,flat_lstm]
                               [--batch=16] [--size=32] [--hole=8] [--repeats=3]

For each model (its CPU configuration from configs/pixelcnn.py or configs/pixelrnn.py, random
weights: the speed does not depend on them) it fills a centre hole×hole hole in a batch of
size×size RGB images greedily, twice: with `inpaintjax.autoregressive.fill` (one jitted
computation: the context prefilled once, then a fori_loop over the hole's rows that updates only
what each new sub-pixel changes) and with `plain_fill` (a Python loop that reruns the whole
jitted model for every sub-pixel of the hole, as public tutorials do). Prints one markdown row
per model: compile time, images/s of each, and the speed-up. Both fills give the same images
(tests/test_autoregressive.py checks it); here the benchmark checks it again.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from inpaintjax import autoregressive, config_base, models  # noqa: E402
from inpaintjax.data import masks  # noqa: E402

CONFIGS = {
    'pixelcnn': 'configs/pixelcnn.py',
    'gated': 'configs/pixelcnn.py:gated',
    'row_lstm': 'configs/pixelrnn.py:row_lstm',
    'diagonal_bilstm': 'configs/pixelrnn.py:diagonal_bilstm',
    'flat_lstm': 'configs/pixelrnn.py:flat_lstm',
}


def best_seconds(fn, repeats: int) -> float:
  """Seconds per call of `fn` (its result blocked on), the best of `repeats`."""
  best = float('inf')
  for _ in range(repeats):
    start = time.perf_counter()
    jax.block_until_ready(fn())
    best = min(best, time.perf_counter() - start)
  return best


def measure(name: str, batch: int, size: int, hole: int, repeats: int, plain: bool = True
            ) -> dict:
  """Compile time and images/s of the jitted fill; with `plain`, also of the plain loop."""
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  config = config_base.load_config(os.path.join(root, CONFIGS[name]))
  model = models.build(config.model, out_channels=3)
  rng = np.random.default_rng(0)
  images = jnp.asarray(rng.integers(0, 256, (batch, size, size, 3)) / 255.0, jnp.float32)
  mask = masks.make_masks(f'center-{hole}', jax.random.PRNGKey(0), batch, size, size)
  variables = model.init(jax.random.PRNGKey(0), images)
  fast = jax.jit(lambda v, x, m: autoregressive.fill(model, v, x, m))
  start = time.perf_counter()
  out = jax.block_until_ready(fast(variables, images, mask))
  compile_s = time.perf_counter() - start
  fast_s = best_seconds(lambda: fast(variables, images, mask), repeats)
  result = dict(model=name, config=CONFIGS[name], compile_s=compile_s, fast=batch / fast_s)
  if plain:
    slow = autoregressive.plain_fill(model, variables, images, mask)  # Compiles the model.
    plain_s = best_seconds(lambda: autoregressive.plain_fill(model, variables, images, mask),
                           max(1, repeats // 2))
    result.update(plain=batch / plain_s, speedup=plain_s / fast_s,
                  same=bool(np.array_equal(np.asarray(out), slow)))
  return result


def main() -> None:
  p = argparse.ArgumentParser(description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument('--models', default=','.join(CONFIGS))
  p.add_argument('--batch', type=int, default=16)
  p.add_argument('--size', type=int, default=32)
  p.add_argument('--hole', type=int, default=8)
  p.add_argument('--repeats', type=int, default=3)
  args = p.parse_args()
  names = args.models.split(',')
  unknown = sorted(set(names) - set(CONFIGS))
  if unknown:
    p.error(f'unknown models {unknown}; known: {sorted(CONFIGS)}')
  print(f'{args.batch} images of {args.size}×{args.size}×3, centre {args.hole}×{args.hole} '
        f'hole, greedy; {jax.device_count()} {jax.devices()[0].platform} device(s)\n')
  print('| model | config | compile (s) | jitted fill (images/s) | plain loop (images/s) | '
        'speed-up | same images |')
  print('|---|---|---:|---:|---:|---:|---|')
  for name in names:
    r = measure(name, args.batch, args.size, args.hole, args.repeats)
    print(f'| {r["model"]} | `{r["config"]}` | {r["compile_s"]:.1f} | {r["fast"]:.2f} | '
          f'{r["plain"]:.3f} | {r["speedup"]:.0f}× | {r["same"]} |', flush=True)


if __name__ == '__main__':
  main()
