"""One table of this machine's speed for every model family.

  python benchmarks/families.py [--steps=5] [--only=unet,pixelcnn] [--no-plain]
                                [--compute_dtype=float32|bfloat16|both]

Columns, per configuration (its CPU configuration, random weights and random uint8 images of the
config's size; the speed does not depend on either):
- train images/s: the jitted, state-donating train step of the trainer, best of `--steps` after a
  warm-up (a GAN step consumes n_critic + 1 batches; they are counted).
- GFLOP/step and GFLOP/s: XLA's own count of the compiled step's floating-point operations
  (`compiled.cost_analysis()`), divided by the measured time; `% peak` compares that with the
  machine's matmul peak, measured first on a 2048×2048 float32 `jnp.dot`.
- pipeline images/s: the trainer's input pipeline (`pipeline.train_batches`: shuffle, gather,
  shard, prefetch thread) alone, and its ratio to what the step consumes (≥ 1: the step is not
  starved).
- sampler images/s (autoregressive models): the jitted greedy fill of a centre 8×8 hole on the
  same batch, and its speed-up over the plain loop that reruns the model per sub-pixel
  (`--no-plain` skips the slow plain loop; `benchmarks/sampler.py` has more options; the sampler
  is always float32). Diffusion models: the jitted `inpaint` (the whole reverse chain, the
  config's sample_steps and sampler; RePaint's jumps included) of a centre 8×8 hole in a batch
  of 64, best of 2 after the compile; the speed-up column gives the seconds per batch.

`--compute_dtype` sets `config.compute_dtype` for the train step. With `both`, the table is
instead each family's float32 and bfloat16 step side by side: ms/step (best of `--steps`), the
speed-up, and the mean loss of the first 1 + `--steps` steps (from the same initial weights,
batch and keys) with its relative difference. bfloat16 is for accelerators: on a CPU expect it
to be slower than float32.
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

from inpaintjax import config_base, parallel, runs, tasks, train  # noqa: E402
from inpaintjax.data import masks, pipeline, sources  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sampler import best_seconds, measure as measure_sampler  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAMILIES = {  # name: (config, sampler model name or None)
    'patch_cnn': ('configs/patch_cnn.py', None),
    'patch_cnn:strong': ('configs/patch_cnn.py:strong', None),
    'unet': ('configs/unet.py', None),
    'unet:best': ('configs/unet.py:best', None),
    'correcting_ae:dense': ('configs/correcting_ae.py:dense', None),
    'correcting_ae:conv': ('configs/correcting_ae.py:conv', None),
    'context_encoder:l2': ('configs/context_encoder.py:l2', None),
    'context_encoder:l2_residual': ('configs/context_encoder.py:l2_residual', None),
    'context_encoder:dcgan': ('configs/context_encoder.py:dcgan', None),
    'context_encoder:wgan_gp': ('configs/context_encoder.py:wgan_gp', None),
    'pixelcnn': ('configs/pixelcnn.py', 'pixelcnn'),
    'pixelcnn:gated': ('configs/pixelcnn.py:gated', 'gated'),
    'row_lstm': ('configs/pixelrnn.py:row_lstm', 'row_lstm'),
    'diagonal_bilstm': ('configs/pixelrnn.py:diagonal_bilstm', 'diagonal_bilstm'),
    'flat_lstm': ('configs/pixelrnn.py:flat_lstm', 'flat_lstm'),
    'diffusion:conditional': ('configs/diffusion.py:conditional', 'diffusion'),
    'diffusion:repaint': ('configs/diffusion.py:repaint', 'diffusion'),
}
DIFFUSION_BATCH = 64  # The diffusion sampler's batch (the figure: 64 in under 10 s).


def matmul_peak(n: int = 2048, repeats: int = 5) -> float:
  """FLOP/s of a jitted n×n float32 matrix product on the default device."""
  a = jax.random.normal(jax.random.PRNGKey(0), (n, n), jnp.float32)
  dot = jax.jit(jnp.dot)
  dot(a, a).block_until_ready()
  return 2 * n**3 / best_seconds(lambda: dot(a, a), repeats)


def step_flops(compiled) -> float:
  """XLA's flop count of a compiled computation (a dict, or a one-element list of dicts)."""
  cost = compiled.cost_analysis()
  if isinstance(cost, (list, tuple)):
    cost = cost[0]
  return float(cost.get('flops', float('nan')))


def build_step(config_path: str, devices=None, overrides: dict | None = None):
  """(jitted train step, state, batch) of a config (`overrides`: dotted keys → strings, as
  --config.a.b=v) on random uint8 images, built as the trainer builds them, the batch (its
  n_critic + 1 sub-batches for a GAN) sharded over `devices` (default: all)."""
  config = config_base.load_config(os.path.join(ROOT, config_path))
  config_base.apply_overrides(config, overrides or {}, from_strings=True)
  mesh = parallel.make_mesh(devices)
  task = tasks.make(config)
  n = config.batch_size * task.batch_multiple
  shape = (n, config.data.image_size, config.data.image_size, config.data.channels or 3)
  images = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
  batch = pipeline.to_global({'image': images, 'label': np.zeros(n, np.int32)},
                             parallel.batch_sharding(mesh))
  state = runs.create_state(task, config, batch, mesh)
  return train.jit_train_step(task, mesh), state, batch


def measure_family(config_path: str, steps: int, compute_dtype: str = 'float32',
                   pipeline_rate: bool = True) -> dict:
  """Train-step (and, with `pipeline_rate`, pipeline) rates of one configuration, and the mean
  loss of its first 1 + `steps` steps."""
  step, state, batch = build_step(config_path, overrides={'compute_dtype': compute_dtype})
  n, size, _, channels = batch['image'].shape
  rng = np.random.default_rng(0)
  ds = sources.Dataset(rng.integers(0, 256, (max(4 * n, 1024), size, size, channels), np.uint8),
                       np.zeros(max(4 * n, 1024), np.int32), 'random')
  sharding = batch['image'].sharding
  key = jax.random.PRNGKey(0)
  flops = step_flops(step.lower(state, batch, key).compile())
  state, metrics = step(state, batch, key)  # Warm-up (and the compile the timed calls reuse).
  jax.block_until_ready(state)
  calls, losses = iter(range(steps)), [metrics['loss']]

  def one_step():
    nonlocal state  # The step donates its input state: each call continues from the last.
    state, metrics = step(state, batch, jax.random.fold_in(key, next(calls)))
    losses.append(metrics['loss'])
    return metrics

  best = best_seconds(one_step, steps)
  result = dict(batch=n, train=n / best, ms=1e3 * best, gflop=flops / 1e9,
                gflops=flops / best / 1e9, loss=float(np.mean([float(v) for v in losses])))
  if not pipeline_rate:
    return result
  batches = pipeline.train_batches(ds, n, 0, 0, sharding)
  jax.block_until_ready(next(batches))
  count, start = 20, time.perf_counter()
  for _ in range(count):
    jax.block_until_ready(next(batches))
  pipe = count * n / (time.perf_counter() - start)
  batches.close()
  return dict(result, pipeline=pipe)


def measure_diffusion(config_path: str, n: int = DIFFUSION_BATCH) -> dict:
  """Images/s and seconds per batch of a diffusion config's jitted inpaint (random weights)."""
  config = config_base.load_config(os.path.join(ROOT, config_path))
  task = tasks.make(config)
  size, channels = config.data.image_size, config.data.channels or 3
  images = np.random.default_rng(0).integers(0, 256, (n, size, size, channels), np.uint8)
  state = task.init(jax.random.PRNGKey(0), {'image': images})
  x = jnp.asarray(images, jnp.float32) / 255.0
  mask = jnp.asarray(masks.center_mask(size, size, 8))[None].repeat(n, 0)
  inpaint = jax.jit(task.inpaint)
  inpaint(state, x, mask, jax.random.PRNGKey(0)).block_until_ready()
  seconds = best_seconds(lambda: inpaint(state, x, mask, jax.random.PRNGKey(1)), 2)
  return {'fast': n / seconds, 'seconds': seconds}


def compare_dtypes(names, steps: int) -> None:
  """Prints each family's float32 and bfloat16 train step side by side."""
  print('| family | config | batch | float32 ms/step | bfloat16 ms/step | bfloat16 speed-up | '
        f'float32 loss ({steps + 1} steps) | bfloat16 loss | loss rel. diff |')
  print('|---|---|---:|---:|---:|---:|---:|---:|---:|')
  for name in names:
    config_path = FAMILIES[name][0]
    f32, bf16 = (measure_family(config_path, steps, dtype, pipeline_rate=False)
                 for dtype in ('float32', 'bfloat16'))
    rel = abs(bf16['loss'] - f32['loss']) / max(abs(f32['loss']), 1e-12)
    print(f'| {name} | `{config_path}` | {f32["batch"]} | {f32["ms"]:.1f} | {bf16["ms"]:.1f} | '
          f'{f32["ms"] / bf16["ms"]:.2f}× | {f32["loss"]:.5g} | {bf16["loss"]:.5g} | '
          f'{rel:.1e} |', flush=True)


def main() -> None:
  p = argparse.ArgumentParser(description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument('--steps', type=int, default=5)
  p.add_argument('--only', default='', help=f'comma-separated subset of {sorted(FAMILIES)}')
  p.add_argument('--no-plain', action='store_true', help='skip the plain sampler loop')
  p.add_argument('--compute_dtype', default='float32', choices=('float32', 'bfloat16', 'both'),
                 help="the train step's config.compute_dtype; 'both': float32 and bfloat16 "
                 'side by side')
  args = p.parse_args()
  names = args.only.split(',') if args.only else list(FAMILIES)
  unknown = sorted(set(names) - set(FAMILIES))
  if unknown:
    p.error(f'unknown families {unknown}; known: {sorted(FAMILIES)}')
  if args.compute_dtype == 'both':
    print(f'{jax.device_count()} {jax.devices()[0].platform} device(s), {os.cpu_count()} cores; '
          f'train step best of {args.steps}\n')
    compare_dtypes(names, args.steps)
    return
  peak = matmul_peak()
  print(f'{jax.device_count()} {jax.devices()[0].platform} device(s), {os.cpu_count()} cores; '
        f'matmul peak {peak / 1e9:.1f} GFLOP/s (2048² float32); train step in '
        f'{args.compute_dtype}; sampler: greedy fill of a centre 8×8 hole, 16 images of '
        f'32×32×3, float32\n')
  print('| family | config | batch | train images/s | GFLOP/step | GFLOP/s | % peak | '
        'pipeline images/s | pipeline / step | sampler images/s | sampler speed-up |')
  print('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  for name in names:
    config_path, sampler_name = FAMILIES[name]
    r = measure_family(config_path, args.steps, args.compute_dtype)
    fill, speedup = '—', '—'
    if sampler_name == 'diffusion':
      s = measure_diffusion(config_path)
      fill, speedup = f'{s["fast"]:.2f}', f'{s["seconds"]:.2f} s / {DIFFUSION_BATCH}'
    elif sampler_name:
      s = measure_sampler(sampler_name, 16, 32, 8, 2, plain=not args.no_plain)
      fill = f'{s["fast"]:.2f}'
      speedup = f'{s["speedup"]:.0f}×' if 'speedup' in s else '—'
    print(f'| {name} | `{config_path}` | {r["batch"]} | {r["train"]:.1f} | {r["gflop"]:.2f} | '
          f'{r["gflops"]:.1f} | {100 * r["gflops"] * 1e9 / peak:.0f}% | {r["pipeline"]:.0f} | '
          f'{r["pipeline"] / r["train"]:.0f}× | {fill} | {speedup} |', flush=True)


if __name__ == '__main__':
  main()
