"""One leaderboard: trained runs and classical methods on the same images and the same holes.

  python -m inpaintjax.evaluate --runs RUN1 RUN2 ... --baselines all --data=npz:PATH \
      --hole=center-8 [--limit=N] [--seed=S] [--out=DIR]

Every method is scored by `scoring.score` (the PROTOCOL metrics) on the images of `--data`
(default: the first run's own evaluation split) with the holes of `--hole` and `--seed`
(default: the first run's training hole, else center-8). Writes DIR/leaderboard.md (one
markdown table, best hole_psnr first), DIR/leaderboard.json and DIR/leaderboard.png (one image
grid: the masked input, then a column per method's composited output, then the truth).
Default DIR: runs/leaderboard.
"""

from __future__ import annotations

import json
import os
import time

import jax
import numpy as np

from inpaintjax import baselines, parallel, scoring
from inpaintjax.runs import (flip_setting, read_config, read_run, sampling_flags_apply,
                             sampling_overrides)
from inpaintjax.data import masks, sources
from inpaintjax.visualize import save_grid


def baseline_names(spec: str | list[str]) -> list[str]:
  """'all', a comma list, or a list of names → the classical methods, checked."""
  names = spec.split(',') if isinstance(spec, str) else list(spec)
  names = [n for n in names if n]
  if names == ['all']:
    return list(baselines.BASELINES)
  unknown = [n for n in names if n not in baselines.BASELINES]
  if unknown:
    raise ValueError(f'Unknown baselines {unknown}; known: all, {", ".join(baselines.BASELINES)}.')
  return names


def _unique_names(runs: list[str]) -> list[str]:
  """Column names for the runs: their folder names, with the parent added where two clash."""
  names = [os.path.basename(os.path.normpath(r)) for r in runs]
  return [os.path.join(os.path.basename(os.path.dirname(os.path.normpath(r))), n)
          if names.count(n) > 1 else n for r, n in zip(runs, names)]


def load(runs: list[str], baselines_spec='', data: str = '', limit: int = 0,
         flip_average: str = '', weights: str = '', sampling: dict | None = None):
  """(the runs as (name, workdir, config, task, state), the baseline names, the images).

  The images are `--data`'s (default: the first run's own evaluation split), checked against
  every run's training size. `sampling` (runs.sampling_overrides: the K-sample readings' K,
  the sampler, its reverse steps) applies to every diffusion run (the other runs have none).
  """
  methods = baseline_names(baselines_spec) if baselines_spec else []
  if not runs and not methods:
    raise ValueError('Nothing to score: give --runs and/or --baselines.')
  sampled = [w for w in runs if 'diffusion' in read_config(w)] if sampling else []
  if sampling and not sampled:
    raise ValueError(f'{sampling_flags_apply(sampling)}; none of --runs is one.')
  loaded = []
  for name, workdir in zip(_unique_names(runs), runs):
    config, task, state = read_run(workdir, flip_setting(flip_average), weights,
                                   sampling if workdir in sampled else None)
    if task.inpaint is None:
      raise ValueError(f'{workdir}: its task ({config.task}) does not inpaint.')
    loaded.append((name, workdir, config, task, state))
  if data:
    ds = scoring.eval_dataset(data, limit, loaded[0][2].data.channels if loaded else 0)
  elif loaded:
    ds = sources.load_split(loaded[0][2].data, 'eval')
    ds = sources.Dataset(ds.images[:limit] if limit else ds.images, None, ds.name)
  else:
    raise ValueError('--baselines alone needs --data (e.g. npz:PATH, cifar10, embedded).')
  for _, workdir, config, _, _ in loaded:
    size = (config.data.image_size, config.data.image_size, config.data.channels)
    if tuple(ds.images.shape[1:]) != size:
      raise ValueError(f'{workdir} was trained on {size[0]}×{size[1]}×{size[2]} images; '
                       f'{ds.name} has {"×".join(map(str, ds.images.shape[1:]))}.')
  return loaded, methods, ds


def extra_reading(name: str) -> bool:
  """Whether an eval_step metric goes in the tables beside the PROTOCOL metrics."""
  return name.endswith('bits_per_dim') or name.startswith('sample_')


def score_all(loaded, methods, ds, hole: str, seed: int, batch_size: int):
  """Every run and baseline on the same images and holes: ({method: metrics}, grid columns).

  Runs whose evaluation reports bits/dim (autoregressive models) get their hole bits/dim too,
  and diffusion runs their samples' readings (`sample_*`: one sample's PSNR and sharpness, the
  K-sample mean's PSNR, the spread).
  """
  mask = scoring.eval_masks(hole, seed, len(ds), *ds.images.shape[1:3])
  mesh = parallel.make_mesh() if loaded else None
  predictors = {name: scoring.model_predictor(task, state, mesh, seed)
                for name, _, _, task, state in loaded}
  predictors.update({method: scoring.baseline_predictor(method) for method in methods})
  batch = scoring.device_batch_size(batch_size)
  rows, columns = {}, {}
  for name, predict in predictors.items():
    start = time.time()
    rows[name], grid = scoring.score(predict, ds.images, mask, batch)
    rows[name]['seconds'] = time.time() - start
    columns.setdefault('masked', grid['masked'])
    columns[name] = grid['composited']
    truth = grid['truth']
  extras = {'mask': mask, 'key': scoring.eval_keys(seed, len(ds))}
  for name, _, _, task, state in loaded:
    # Only a task whose evaluation reports such readings is evaluated again (the metric names
    # come from the step's shapes, nothing computed).
    example = {k: v[:1] for k, v in {'image': ds.images, **extras}.items()}
    if any(extra_reading(k) for k in jax.eval_shape(task.eval_step, state, example)):
      losses = scoring.eval_losses(task, state, ds.images, extras, batch, mesh)
      rows[name].update({k: v for k, v in losses.items() if extra_reading(k)})
  for name, _, _, task, state in loaded:  # A sampler's own samples beside its fill.
    drawn = scoring.with_samples(task, state, {'truth': truth}, mask[:len(truth)], seed)
    columns.update({f'{name} {k}': v for k, v in drawn.items() if k != 'truth'})
  columns['truth'] = truth
  return dict(sorted(rows.items(), key=lambda kv: -kv[1]['hole_psnr'])), columns


def run(runs: list[str], baselines_spec='', data: str = '', hole: str = '', limit: int = 0,
        seed: int = 0, batch_size: int = 250, out: str = '', flip_average: str = '',
        weights: str = '', samples: int = 0, sampler: str = '',
        sample_steps: int = 0, temperature: float | None = None) -> dict[str, dict[str, float]]:
  """Scores every run and baseline; writes and prints the table; returns {method: metrics}.

  `flip_average` 'on' / 'off' overrides every run's own inference setting ('' keeps each);
  `weights` 'ema' / 'raw' picks every run's averaged or trained weights ('' = the average
  where a run keeps one); `samples`, `sampler` ('ddim' / 'ddpm') and `sample_steps` the K of
  diffusion runs' K-sample readings, their sampler and its reverse steps (0 / '' keep each's);
  `temperature` (None keeps each's) the scale of their ancestral steps' noise.
  """
  sampling = sampling_overrides(samples, sampler, sample_steps, temperature)
  loaded, methods, ds = load(runs, baselines_spec, data, limit, flip_average, weights, sampling)
  hole = hole or (str(loaded[0][3].hole) if loaded and loaded[0][3].hole else 'center-8')
  rows, columns = score_all(loaded, methods, ds, hole, seed, batch_size)
  header = (f'{ds.name}, {len(ds)} images, hole {masks.parse_hole(hole)} (seed {seed}); '
            'best hole_psnr first' + (f'; flip_average {flip_average} for every run'
                                      if flip_average else '')
            + (f'; {weights} weights for every run' if weights else '')
            + ''.join(f'; --{flag}={value} for every diffusion run'
                      for flag, value in sampling.items()))
  table = scoring.markdown_table(rows)
  print(header + '\n\n' + table)
  out = out or os.path.join('runs', 'leaderboard')
  os.makedirs(out, exist_ok=True)
  with open(os.path.join(out, 'leaderboard.md'), 'w') as f:
    f.write(f'{header}\n\n{table}\n\nleaderboard.png columns: {", ".join(columns)}.\n')
  with open(os.path.join(out, 'leaderboard.json'), 'w') as f:
    json.dump({'data': ds.name, 'hole': hole, 'seed': seed, 'num_images': len(ds),
               'methods': rows}, f, indent=2)
  save_grid(os.path.join(out, 'leaderboard.png'), {k: np.asarray(v) for k, v in columns.items()})
  return rows
