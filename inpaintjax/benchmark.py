"""One benchmark of trained runs and classical methods across hole kinds.

  python -m inpaintjax.benchmark --runs RUN1 RUN2 ... [--baselines all] \
      --holes=center-8,center-16,thin,thick,box --data=npz:data/cifar10_train.npz@48000: \
      [--limit=N] [--seed=S] [--weights=ema|raw] [--flip_average=on|off] --out=DIR \
      [--extend=OLD/benchmark.json]

For each hole kind, every method is scored by `leaderboard.score_all` (the evaluator's
scoring: the same images, the same holes from `--seed`) and the command writes one markdown
table — hole-only and whole-image readings side by side, best hole PSNR first — and one image
grid (`DIR/grid_<hole>.png`: the masked input, each method's composited output, the truth);
`DIR/benchmark.md` holds every table, `DIR/benchmark.json` every figure.

`--extend` adds this command's rows to an earlier benchmark.json (the same data, number of
images and seed: the same images and holes, so the rows compare), keeping the rows it does not
re-score: runs trained in different sessions accumulate in one table, and the classical methods
need scoring once (`--baselines=`). The grids show only the methods this command scored; the
JSON's `settings` says, per method, the --weights / --flip_average that scored it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

from inpaintjax import leaderboard
from inpaintjax.data import masks
from inpaintjax.errors import ConfigError, DataError, RunError
from inpaintjax.visualize import save_grid

# (column, header): the hole-only readings, then the whole-image ones.
COLUMNS = (('hole_psnr', 'PSNR hole'), ('image_psnr', 'PSNR image'), ('hole_ssim', 'SSIM hole'),
           ('ssim', 'SSIM image'), ('hole_l1', 'L1 hole'), ('image_l1', 'L1 image'),
           ('rgb_dist', 'rgb_dist hole'), ('sharpness', 'sharpness hole'),
           ('hole_bits_per_dim', 'bits/dim hole'), ('sample_hole_psnr', 'PSNR hole, 1 sample'),
           ('sample_mean_hole_psnr', 'PSNR hole, K-sample mean'),
           ('sample_sharpness', 'sharpness hole, 1 sample'), ('sample_spread', 'spread hole'))


def table(rows: dict[str, dict[str, float]]) -> str:
  """A markdown table of the COLUMNS some method reports, one row per method."""
  cols = [(k, h) for k, h in COLUMNS if any(k in r for r in rows.values())]
  lines = ['| method | ' + ' | '.join(h for _, h in cols) + ' |', '|---' * (len(cols) + 1) + '|']
  for name, r in rows.items():
    lines.append(f'| {name} | ' + ' | '.join(f'{r[k]:.4g}' if k in r else '' for k, _ in cols)
                 + ' |')
  return '\n'.join(lines)


def load_previous(path: str, data: str, num_images: int, seed: int) -> dict:
  """The benchmark.json at `path`, checked to score the same images and holes as this command."""
  try:
    with open(path) as f:
      saved = json.load(f)
    results, settings = saved['results'], saved.get('settings', {})
  except FileNotFoundError:
    raise FileNotFoundError(f'--extend: no benchmark JSON at {path}.') from None
  except (json.JSONDecodeError, KeyError, TypeError) as e:
    raise DataError(f'--extend: {path} is not a benchmark.json ({e}).') from None
  ours = {'data': data, 'num_images': num_images, 'seed': seed}
  theirs = {k: saved.get(k) for k in ours}
  if theirs != ours:
    raise ConfigError(f'--extend: {path} scored other images or holes ({theirs}) than this '
                      f'command ({ours}); its rows would not compare.')
  return {'results': results, 'settings': settings, 'holes': saved.get('holes', list(results))}


def by_hole_psnr(rows: dict) -> dict:
  """The rows, best hole PSNR first."""
  return dict(sorted(rows.items(), key=lambda kv: -kv[1]['hole_psnr']))


def section(kind: str, rows: dict, data: str, num_images: int, seed: int) -> str:
  """One hole kind's heading, caption and table."""
  return (f'### {kind}\n\n{data}, {num_images} images, seed {seed}; "hole" columns are over '
          'the hole pixels only, "image" columns over the whole composited image (the known '
          'pixels exact); best hole PSNR first.\n\n' + table(rows))


def run(runs: list[str], baselines_spec: str = '', holes: str = 'center-8', data: str = '',
        limit: int = 0, seed: int = 0, batch_size: int = 250, out: str = '',
        weights: str = '', flip_average: str = '',
        extend: str = '') -> dict[str, dict[str, dict[str, float]]]:
  """Scores every method on every hole kind; writes the tables, grids and JSON (with the
  rows of the benchmark.json `extend` names, if any); returns {hole: {method: metrics}}."""
  kinds = [h.strip() for h in holes.split(',') if h.strip()]
  if not kinds:
    raise ConfigError('--holes names no hole kind (e.g. center-8,thin,thick).')
  for kind in kinds:
    masks.parse_hole(kind)
  loaded, methods, ds = leaderboard.load(runs, baselines_spec, data, limit, flip_average,
                                        weights)
  for kind in kinds:
    masks.check_fits(kind, *ds.images.shape[1:3])
  previous = (load_previous(extend, ds.name, len(ds), seed) if extend
              else {'results': {}, 'settings': {}, 'holes': []})
  out = out or os.path.join('runs', 'benchmark')
  os.makedirs(out, exist_ok=True)
  results = {kind: dict(rows) for kind, rows in previous['results'].items()}
  scored = [name for name, *_ in loaded] + list(methods)
  setting = {'weights': weights or 'default', 'flip_average': flip_average or 'default'}
  settings = {**previous['settings'], **{name: setting for name in scored}}
  for kind in kinds:
    rows, columns = leaderboard.score_all(loaded, methods, ds, kind, seed, batch_size)
    results[kind] = by_hole_psnr({**results.get(kind, {}), **rows})
    print(section(masks.parse_hole(kind), results[kind], ds.name, len(ds), seed) + '\n',
          flush=True)
    save_grid(os.path.join(out, f'grid_{masks.parse_hole(kind)}.png'),
              {k: np.asarray(v) for k, v in columns.items()})
  all_kinds = list(dict.fromkeys(previous['holes'] + kinds))
  with open(os.path.join(out, 'benchmark.md'), 'w') as f:
    f.write('\n\n'.join(section(masks.parse_hole(k), results[k], ds.name, len(ds), seed)
                          for k in all_kinds) + '\n')
  with open(os.path.join(out, 'benchmark.json'), 'w') as f:
    json.dump({'data': ds.name, 'num_images': len(ds), 'seed': seed, 'holes': all_kinds,
               'settings': settings, 'results': results}, f, indent=2)
  return {kind: results[kind] for kind in kinds}


def build_parser() -> argparse.ArgumentParser:
  """The command's flags (the tests parse every documented command line with it)."""
  p = argparse.ArgumentParser(prog='python -m inpaintjax.benchmark', description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument('--runs', nargs='*', default=[], help='Training run folders.')
  p.add_argument('--baselines', default='all',
                 help="Classical methods: 'all' (default), a comma list, or '' for none.")
  p.add_argument('--holes', default='center-8,center-16,thin,thick,box')
  p.add_argument('--data', default='', help='npz:PATH[@A:B], a TFDS name or embedded.')
  p.add_argument('--limit', type=int, default=0, help='Score only the first N images.')
  p.add_argument('--seed', type=int, default=0, help='Seed of the random holes.')
  p.add_argument('--batch_size', type=int, default=250)
  p.add_argument('--weights', default='', choices=('', 'ema', 'raw'))
  p.add_argument('--flip_average', default='', choices=('', 'on', 'off'),
                 help="Score every run with (on) or without (off) the mirror-image average, "
                      "whatever its config says (refused for runs that cannot).")
  p.add_argument('--out', default='', help='Folder for the tables, grids and JSON.')
  p.add_argument('--extend', default='',
                 help='An earlier benchmark.json (the same --data, images and --seed) whose rows '
                      'the tables and JSON keep beside this command\'s.')
  return p


def main(argv=None) -> int:
  """Command-line entry point; bad input ends with a one-line error and status 2."""
  args = build_parser().parse_args(argv)
  try:
    run(args.runs, args.baselines, args.holes, args.data, args.limit, args.seed,
        args.batch_size, args.out, args.weights, args.flip_average, args.extend)
  except (ValueError, FileNotFoundError, ConfigError, DataError, RunError) as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  return 0


if __name__ == '__main__':
  sys.exit(main())
