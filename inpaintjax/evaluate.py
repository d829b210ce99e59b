"""The evaluation protocol (shared PROTOCOL.md) for trained models and classical baselines.

  python -m inpaintjax.evaluate --workdir=RUN [--data=...] [--hole=center-8] [--limit=N]
  python -m inpaintjax.evaluate --baseline=biharmonic --data=npz:PATH --hole=center-8
  python -m inpaintjax.evaluate --workdir=RUN --flip_average=on|off   (the same weights with or
                                without the mirror image's prediction averaged in)
  python -m inpaintjax.evaluate --workdir=CORRECTOR_RUN --classifier=CLASSIFIER_RUN
  python -m inpaintjax.evaluate --runs RUN1 RUN2 --baselines all --data=npz:PATH  (one table:
                                inpaintjax.leaderboard)

Both score predictions the same way: composite into the known pixels, map to
the 8-bit grid, then the metrics of `inpaintjax.metrics`, per image, then the
mean over every image (the last batch is padded for the compiled shape and the
padding dropped, never the images). Holes come from `--hole` and `--seed`, so
every method sees the same holes. Prints a markdown table and writes
`eval.json` and a PNG grid to `--out` (default RUN/eval or runs/baselines).
Correctors and classifiers are scored by the classifier test instead
(inpaintjax.classifier_test): `--classifier=RUN` names the judge.
"""

from __future__ import annotations

import json
import os
import sys
import time

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
  means = {k: float(np.mean(np.concatenate(v))) for k, v in per_image.items()}
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


def evaluate_state(task, state, eval_ds, config, mesh, grid_path=None) -> dict[str, float]:
  """The trainer's periodic evaluation: eval_step metrics, PROTOCOL metrics for inpainters,
  and, when `config.judge` names a classifier run, its accuracy on the task's outputs."""
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
      save_grid(grid_path, grid)
  if config.get('judge'):
    from inpaintjax import classifier_test  # pylint: disable=g-import-not-at-top
    results.update(classifier_test.judge_metrics(task, state, eval_ds, config, mesh, grid_path))
  return results


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


def flip_setting(flip_average: str) -> bool | None:
  """--flip_average's 'on' / 'off' / '' (the run's own) as True / False / None."""
  settings = {'on': True, 'off': False, '': None}
  if flip_average not in settings:
    raise ValueError(f"--flip_average must be 'on', 'off' or empty, got {flip_average!r}.")
  return settings[flip_average]


def run(workdir: str = '', baseline: str = '', data: str = '', hole: str = '', limit: int = 0,
        seed: int = 0, batch_size: int = 250, out: str = '', classifier: str = '',
        flip_average: str = '') -> dict[str, float]:
  """The command's work; returns the mean metrics and writes the report files.

  `flip_average` 'on' or 'off' overrides the run's own inference setting ('' keeps it).
  """
  if bool(workdir) == bool(baseline):
    raise ValueError('Give exactly one of --workdir (a trained run) or --baseline (a method).')
  from inpaintjax import classifier_test, train  # pylint: disable=g-import-not-at-top
  if classifier:
    return classifier_test.report(classifier, workdir, data, limit, seed, batch_size, out)
  if workdir:
    config, task, state = train.read_run(workdir, flip_setting(flip_average))
    if task.predicts == 'logits':  # A classifier: scored by the classifier test alone.
      return classifier_test.report(workdir, '', data, limit, seed, batch_size, out)
    if task.inpaint is None:
      raise ValueError(f'The task of {workdir} ({config.task}) does not inpaint; '
                       'score a corrector with --classifier=CLASSIFIER_RUN.')
    mesh = parallel.make_mesh()
    ds = (eval_dataset(data, limit, config.data.channels, config.data) if data
          else sources.load_split(config.data, 'eval'))
    if not data and limit:
      ds = sources.Dataset(ds.images[:limit], None, ds.name)
    hole = hole or str(task.hole)
    predict, method = model_predictor(task, state, mesh, seed), os.path.basename(
        os.path.normpath(workdir))
    if flip_average:  # Its own name and files: not the run's own setting's.
      method += f' (flip_average {flip_average})'
    out = out or os.path.join(workdir, 'eval')
  else:
    if flip_average:
      raise ValueError('--flip_average applies to a trained run (--workdir), not a baseline.')
    if not data:
      raise ValueError('--baseline needs --data (e.g. npz:PATH, cifar10, embedded).')
    ds = eval_dataset(data, limit)
    hole = hole or 'center-8'
    predict, method = baseline_predictor(baseline), baseline
    out = out or os.path.join('runs', 'baselines', baseline)
  mask = eval_masks(hole, seed, len(ds), *ds.images.shape[1:3])
  start = time.time()
  means, grid = score(predict, ds.images, mask, device_batch_size(batch_size))
  if workdir:  # The task's own eval metrics on the same images and holes (bits/dim, loss).
    extras = {'mask': mask, 'key': eval_keys(seed, len(ds))}
    if ds.labels is not None:
      extras['label'] = ds.labels
    means.update(eval_losses(task, state, ds.images, extras, device_batch_size(batch_size),
                             mesh))
  print(f'{method} on {ds.name}, hole {hole} (seed {seed}), {len(ds)} images, '
        f'{time.time() - start:.1f} s\n')
  print(markdown_table({method: means}))
  os.makedirs(out, exist_ok=True)
  data_tag = os.path.basename(ds.name.removeprefix('npz:')).replace('.npz', '').replace(':', '_')
  tag = f'{masks.parse_hole(hole)}_{data_tag}' + (f'_flip-{flip_average}' if flip_average else '')
  with open(os.path.join(out, f'eval_{tag}.json'), 'w') as f:
    json.dump({'method': method, 'data': ds.name, 'hole': hole, 'seed': seed, **means}, f,
              indent=2)
  save_grid(os.path.join(out, f'grid_{tag}.png'), grid)
  return means


def main(argv=None) -> int:
  """Command-line entry point; bad input ends with a one-line error, not a traceback."""
  import argparse  # pylint: disable=g-import-not-at-top
  p = argparse.ArgumentParser(prog='python -m inpaintjax.evaluate', description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument('--workdir', default='', help='A training run folder.')
  p.add_argument('--baseline', default='', choices=('',) + baselines.BASELINES)
  p.add_argument('--data', default='', help='cifar10, mnist, npz:PATH, embedded, ...')
  p.add_argument('--hole', default='', help='center-M, box or strokes (default: the run\'s).')
  p.add_argument('--limit', type=int, default=0, help='Score only the first N images.')
  p.add_argument('--seed', type=int, default=0, help='Seed of random holes.')
  p.add_argument('--batch_size', type=int, default=250)
  p.add_argument('--out', default='', help='Folder for eval JSON and grid PNG.')
  p.add_argument('--classifier', default='',
                 help='A classifier run that judges the corrector in --workdir.')
  p.add_argument('--flip_average', default='', choices=('', 'on', 'off'),
                 help="Average with the mirror image's prediction: 'on' or 'off' overrides "
                      "the run's own setting (regression and context-encoder runs).")
  p.add_argument('--runs', nargs='+', default=[], help='Runs for one leaderboard.')
  p.add_argument('--baselines', default='',
                 help="Classical methods for the leaderboard: 'all' or a comma list.")
  args = vars(p.parse_args(argv))
  runs, baselines_spec = args.pop('runs'), args.pop('baselines')
  try:
    if runs or baselines_spec:
      if args['workdir'] or args['baseline'] or args['classifier']:
        raise ValueError('--runs/--baselines make a leaderboard: leave out --workdir, '
                         '--baseline and --classifier.')
      from inpaintjax import leaderboard  # pylint: disable=g-import-not-at-top
      leaderboard.run(runs, baselines_spec, args['data'], args['hole'], args['limit'],
                      args['seed'], args['batch_size'], args['out'], args['flip_average'])
    else:
      run(**args)
  except (ValueError, FileNotFoundError, RuntimeError) as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  return 0


if __name__ == '__main__':
  sys.exit(main())
