"""Scoring: the evaluation protocol's functions (shared PROTOCOL.md), for every caller.

The evaluator's command (evaluate.py), the leaderboard, the benchmark tables and the
trainer's periodic evaluation all score through these, so a figure means the same wherever
it is printed: composite into the known pixels, map to the 8-bit grid, then the metrics of
`inpaintjax.metrics`, per image, then the mean over every image (the last batch is padded
for the compiled shape and the padding dropped, never the images). Holes are a function of
(hole kind, seed) only, so every method sees the same holes.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from inpaintjax import baselines, config_base, metrics, parallel
from inpaintjax.data import masks, pipeline, sources
from inpaintjax.visualize import save_grid


def eval_masks(hole, seed: int, num: int, height: int, width: int) -> np.ndarray:
  """The evaluation holes: (N, H, W, 1) float32, a function of (hole, seed) only."""
  out = []
  key = jax.random.PRNGKey(seed)
  make = jax.jit(masks.make_masks, static_argnums=(0, 2, 3, 4))
  # Chunks of a fixed size keep strokes (a scan per mask) within memory; mask i always uses
  # sub-key i of chunk i // 1000, whatever `num` is.
  for chunk in range(0, num, 1000):
    out.append(np.asarray(make(masks.parse_hole(hole), jax.random.fold_in(key, chunk // 1000),
                               1000, height, width)))
  return np.concatenate(out)[:num]


@jax.jit
def _per_image(raw, truth, mask):
  per = metrics.hole_metrics(raw, truth, mask)
  per['ssim_seed'] = metrics.ssim_seed(raw, truth)
  # Hole gradient magnitude over the truth's: < 1 blurrier, > 1 noisier (GAN vs L2 study).
  per['sharpness'] = metrics.sharpness_ratio(raw, truth, mask)
  return per


def score(predict, images_u8: np.ndarray, mask: np.ndarray, batch_size: int,
          grid_rows: int = 8) -> tuple[dict[str, float], dict[str, np.ndarray]]:
  """Scores `predict(images [0,1], mask) -> raw [0,1]` on every image; returns (means, grid).

  The grid holds the first `grid_rows` images: masked input, raw output,
  composited output and truth.
  """
  images_u8 = sources.check_images(images_u8)
  masks.validate_mask(mask, images_u8.shape)
  per_image: dict[str, list] = {}
  grid = None
  for batch, n_valid in pipeline.eval_batches(images_u8, batch_size, {'mask': mask}):
    truth = batch['image'].astype(np.float32) / 255.0
    raw = predict(truth, batch['mask'])
    for k, v in _per_image(raw, truth, batch['mask']).items():
      per_image.setdefault(k, []).append(np.asarray(v)[:n_valid])
    if grid is None:
      rows = slice(0, min(grid_rows, n_valid))
      raw_np = np.asarray(raw)[rows]
      m, t = batch['mask'][rows], truth[rows]
      grid = {'masked': t * (1 - m) + 0.5 * m, 'output': raw_np,
              'composited': np.asarray(metrics.composite(raw_np, t, m)), 'truth': t}
  # nanmean: hole_ssim is undefined (NaN) for a hole that lies only in the image's border.
  means = {k: float(np.nanmean(np.concatenate(v))) for k, v in per_image.items()}
  means['num_images'] = len(images_u8)
  return means, grid


def model_predictor(task, state, mesh, seed: int = 0):
  """A jitted `predict(images, mask)` for a task's inpaint, batch sharded over the mesh."""
  repl, data = parallel.replicated(mesh), parallel.batch_sharding(mesh)
  inpaint = jax.jit(task.inpaint, in_shardings=(repl, data, data, repl), out_shardings=repl)
  key = jax.random.PRNGKey(seed)
  return lambda images, mask: inpaint(state, parallel.from_global(images, data),
                                      parallel.from_global(mask, data), key)


def baseline_predictor(name: str):
  """`predict(images, mask)` for a classical method, on the 8-bit images it was made for."""
  if name not in baselines.BASELINES:
    raise ValueError(f'Unknown baseline {name!r}; known: {list(baselines.BASELINES)}.')

  def predict(images, mask):
    u8 = np.round(np.asarray(images) * 255).astype(np.uint8)
    return baselines.inpaint_baseline(name, u8, mask).astype(np.float32) / 255.0
  return predict


def device_batch_size(batch_size: int) -> int:
  """`batch_size` rounded up to a multiple of the device count (the batch is sharded)."""
  d = jax.device_count()
  return -(-batch_size // d) * d


def eval_keys(seed: int, num: int) -> np.ndarray:
  """One PRNG key per evaluation image, (N, 2) uint32: key i = fold_in(PRNGKey(seed), i)."""
  fold = jax.vmap(jax.random.fold_in, in_axes=(None, 0))
  return np.asarray(fold(jax.random.PRNGKey(seed), jnp.arange(num, dtype=jnp.uint32)))


def eval_losses(task, state, images_u8, extras, batch_size, mesh) -> dict[str, float]:
  """Means of the task's per-example eval_step metrics over every image.

  `extras` are per-image arrays (mask, key, label) batched beside the images.
  """
  repl, data = parallel.replicated(mesh), parallel.batch_sharding(mesh)
  # Replicated outputs: every process gets every example's metrics (multi-process runs).
  step = jax.jit(task.eval_step, in_shardings=(repl, data), out_shardings=repl)
  values: dict[str, list] = {}
  for batch, n_valid in pipeline.eval_batches(images_u8, batch_size, extras):
    batch = {k: parallel.from_global(v, data) for k, v in batch.items()}
    for k, v in step(state, batch).items():
      values.setdefault(k, []).append(np.asarray(v)[:n_valid])
  return {k: float(np.mean(np.concatenate(v))) for k, v in values.items()}


def eval_dataset(spec: str, limit: int, channels: int = 0, data_cfg=None) -> sources.Dataset:
  """The evaluation images named by `--data` (a TFDS test split, a whole npz, embedded test)."""
  data_cfg = (data_cfg or config_base.base_config().data).copy_and_resolve_references()
  data_cfg.unlock()
  data_cfg.update(name=spec, eval_name=spec, holdout=0.0, eval_limit=limit, fallback='',
                  channels=channels)
  return sources.load_split(data_cfg, 'eval')


def markdown_table(rows: dict[str, dict[str, float]]) -> str:
  """A markdown table: one row per method, PROTOCOL's columns first."""
  cols = ['hole_psnr', 'rgb_dist', 'maem', 'ssim', 'ssim_seed', 'sharpness', 'hole_mse',
          'hole_l1']
  cols += sorted({k for r in rows.values() for k in r} - set(cols) - {'num_images'})
  lines = ['| method | ' + ' | '.join(cols) + ' |', '|---' * (len(cols) + 1) + '|']
  for name, r in rows.items():
    cells = [f'{r[c]:.4g}' if c in r else '' for c in cols]
    lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
  return '\n'.join(lines)


def evaluate_state(task, state, eval_ds, config, mesh, grid_path=None) -> dict[str, float]:
  """The trainer's periodic evaluation: the task's eval_step metrics and, for inpainters, the
  PROTOCOL metrics on the training hole (seed `config.eval_seed`) and a grid at `grid_path`."""
  images = eval_ds.images
  extras = {'key': eval_keys(config.eval_seed, len(images))}
  if eval_ds.labels is not None:
    extras['label'] = eval_ds.labels
  if task.inpaint is not None:
    extras['mask'] = eval_masks(task.hole or 'center-8', config.eval_seed, len(images),
                                *images.shape[1:3])
  batch_size = device_batch_size(config.eval_batch_size)
  results = eval_losses(task, state, images, extras, batch_size, mesh)
  if task.inpaint is not None:
    quality, grid = score(model_predictor(task, state, mesh, config.eval_seed), images,
                          extras['mask'], batch_size, config.grid_images)
    results.update(quality)
    if grid_path and jax.process_index() == 0:
      save_grid(grid_path, with_samples(task, state, grid, extras['mask'][:len(grid['truth'])],
                                        config.eval_seed))
  return results


def with_samples(task, state, grid: dict, mask: np.ndarray, seed: int) -> dict:
  """The grid with `task.parts['grid_samples']` more columns, one sample each (a sampler's
  samples differ: diffusion models), before the truth; the grid as it was for other tasks."""
  count = task.parts.get('grid_samples', 0)
  if not count:
    return grid
  truth = grid['truth']
  samples = np.asarray(jax.jit(task.parts['fill'], static_argnums=4)(
      state, jnp.asarray(truth), jnp.asarray(mask, jnp.float32), jax.random.PRNGKey(seed),
      count))
  columns = {k: v for k, v in grid.items() if k != 'truth'}
  columns.update({f'sample {i + 1}': s for i, s in enumerate(samples)})
  return {**columns, 'truth': truth}
