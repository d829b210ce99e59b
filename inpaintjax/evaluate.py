"""The evaluation protocol (shared PROTOCOL.md) for trained models and classical baselines.

  python -m inpaintjax.evaluate --workdir=RUN [--data=...] [--hole=center-8] [--limit=N]
  python -m inpaintjax.evaluate --baseline=biharmonic --data=npz:PATH --hole=center-8
  python -m inpaintjax.evaluate --workdir=RUN --flip_average=on|off   (the same weights with or
                                without the mirror image's prediction averaged in)
  python -m inpaintjax.evaluate --workdir=RUN --weights=ema|raw   (the moving average of the
                                weights, or the trained weights; default: the average if kept)
  python -m inpaintjax.evaluate --workdir=DIFFUSION_RUN --samples=8   (its K-sample mean's PSNR
                                and the spread over 8 samples per image)
  python -m inpaintjax.evaluate --workdir=DIFFUSION_RUN --sampler=ddpm --sample_steps=100
                                (the same weights read with another sampler or chain length)
  python -m inpaintjax.evaluate --workdir=DIFFUSION_RUN --sampler=ddpm --temperature=0.8
                                (ancestral steps that add 0.8 of their noise: smoother samples)
  python -m inpaintjax.evaluate --workdir=CORRECTOR_RUN --classifier=CLASSIFIER_RUN
  python -m inpaintjax.evaluate --runs RUN1 RUN2 --baselines all --data=npz:PATH  (one table:
                                inpaintjax.leaderboard)

Both are scored by `inpaintjax.scoring` (the functions the trainer's own evaluation uses).
Holes come from `--hole` and `--seed`, so every method sees the same holes. Prints a markdown table and writes
`eval.json` and a PNG grid to `--out` (default RUN/eval or runs/baselines).
Correctors and classifiers are scored by the classifier test instead
(inpaintjax.classifier_test): `--classifier=RUN` names the judge.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from inpaintjax import baselines, classifier_test, leaderboard, parallel, runs, scoring
from inpaintjax.data import masks, sources
from inpaintjax.errors import ConfigError, RunError
from inpaintjax.visualize import save_grid


def run(workdir: str = '', baseline: str = '', data: str = '', hole: str = '', limit: int = 0,
        seed: int = 0, batch_size: int = 250, out: str = '', classifier: str = '',
        flip_average: str = '', weights: str = '', samples: int = 0, sampler: str = '',
        sample_steps: int = 0, temperature: float | None = None) -> dict[str, float]:
  """The command's work; returns the mean metrics and writes the report files.

  `flip_average` 'on' or 'off' overrides the run's own inference setting ('' keeps it);
  `weights` 'ema' or 'raw' picks the moving average or the trained weights ('' = the average
  when the run keeps one); `samples` > 0 the K of a diffusion run's K-sample readings,
  `sampler` ('ddim' / 'ddpm') and `sample_steps` > 0 its sampler and reverse steps,
  `temperature` (not None) the scale of the noise its ancestral steps add.
  """
  sampling = runs.sampling_overrides(samples, sampler, sample_steps, temperature)
  if bool(workdir) == bool(baseline):
    raise ValueError('Give exactly one of --workdir (a trained run) or --baseline (a method).')
  if classifier:
    return classifier_test.report(classifier, workdir, data, limit, seed, batch_size, out,
                                  weights)
  if workdir:
    config, task, state = runs.read_run(workdir, runs.flip_setting(flip_average), weights,
                                        sampling)
    if task.predicts == 'logits':  # A classifier: scored by the classifier test alone.
      return classifier_test.report(workdir, '', data, limit, seed, batch_size, out, weights)
    if task.inpaint is None:
      raise ValueError(f'The task of {workdir} ({config.task}) does not inpaint; '
                       'score a corrector with --classifier=CLASSIFIER_RUN.')
    mesh = parallel.make_mesh()
    ds = (scoring.eval_dataset(data, limit, config.data.channels, config.data) if data
          else sources.load_split(config.data, 'eval'))
    if not data and limit:
      ds = sources.Dataset(ds.images[:limit], None, ds.name)
    hole = hole or str(task.hole)
    predict = scoring.model_predictor(task, state, mesh, seed)
    method = os.path.basename(os.path.normpath(workdir))
    # Its own name and files: not the run's own setting's.
    suffix = (f'_flip-{flip_average}' if flip_average else '') + (
        f'_{weights}' if weights else '')
    if flip_average:
      method += f' (flip_average {flip_average})'
    if weights:
      method += f' ({weights} weights)'
    suffix += ''.join(f'_{flag}-{value}' for flag, value in sampling.items())
    method += ''.join(f' ({flag} {value})' for flag, value in sampling.items()
                      if flag != 'samples')
    # An exported model's reports go beside the classical ones (its file is not a folder).
    out = out or (os.path.join('runs', 'eval', os.path.splitext(method)[0].replace(':', '_'))
                  if runs.is_export(workdir) else os.path.join(workdir, runs.EVAL_DIR))
  else:
    if flip_average or weights or sampling:
      flag = ('--flip_average' if flip_average else '--weights' if weights
              else f'--{next(iter(sampling))}')
      raise ValueError(f'{flag} applies to a trained run (--workdir), not a baseline.')
    if not data:
      raise ValueError('--baseline needs --data (e.g. npz:PATH, cifar10, embedded).')
    ds = scoring.eval_dataset(data, limit)
    hole = hole or 'center-8'
    predict, method, suffix = scoring.baseline_predictor(baseline), baseline, ''
    out = out or os.path.join('runs', 'baselines', baseline)
  mask = scoring.eval_masks(hole, seed, len(ds), *ds.images.shape[1:3])
  start = time.time()
  means, grid = scoring.score(predict, ds.images, mask, scoring.device_batch_size(batch_size))
  if workdir:  # The task's own eval metrics on the same images and holes (bits/dim, loss).
    extras = {'mask': mask, 'key': scoring.eval_keys(seed, len(ds))}
    if ds.labels is not None:
      extras['label'] = ds.labels
    means.update(scoring.eval_losses(task, state, ds.images, extras,
                                     scoring.device_batch_size(batch_size), mesh))
  print(f'{method} on {ds.name}, hole {hole} (seed {seed}), {len(ds)} images, '
        f'{time.time() - start:.1f} s\n')
  print(scoring.markdown_table({method: means}))
  os.makedirs(out, exist_ok=True)
  data_tag = os.path.basename(ds.name.removeprefix('npz:')).replace('.npz', '').replace(':', '_')
  # A --limit reading gets its own file: a 500-image reading must not overwrite the full one.
  tag = f'{masks.parse_hole(hole)}_{data_tag}{suffix}' + (f'_first-{len(ds)}' if limit else '')
  with open(os.path.join(out, f'eval_{tag}.json'), 'w') as f:
    json.dump({'method': method, 'data': ds.name, 'hole': hole, 'seed': seed, **means}, f,
              indent=2)
  save_grid(os.path.join(out, f'grid_{tag}.png'), grid)
  return means


def build_parser() -> argparse.ArgumentParser:
  """The command's flags (the tests parse every documented command line with it)."""
  p = argparse.ArgumentParser(prog='python -m inpaintjax.evaluate', description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument('--workdir', default='', help='A training run folder or an exported model.')
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
  p.add_argument('--weights', default='', choices=('', 'ema', 'raw'),
                 help="'ema': the moving average of the weights, 'raw': the trained weights "
                      "(default: the average when the run keeps one).")
  p.add_argument('--samples', type=int, default=0,
                 help="A diffusion run's K for its K-sample readings (sample_mean_hole_psnr, "
                      "sample_spread); default: the run's diffusion.eval_samples.")
  p.add_argument('--sampler', default='', choices=('', 'ddim', 'ddpm'),
                 help="A diffusion run's sampler: 'ddim' (deterministic) or 'ddpm' (ancestral); "
                      "default: the run's diffusion.sampler.")
  p.add_argument('--sample_steps', type=int, default=0,
                 help="A diffusion run's reverse steps; default: the run's "
                      "diffusion.sample_steps.")
  p.add_argument('--temperature', type=float, default=None,
                 help="A diffusion run's noise temperature: the scale of the noise each "
                      "ancestral (ddpm) step adds (1 = as derived; DDIM adds none); default: "
                      "the run's diffusion.temperature.")
  p.add_argument('--runs', nargs='+', default=[], help='Runs for one leaderboard.')
  p.add_argument('--baselines', default='',
                 help="Classical methods for the leaderboard: 'all' or a comma list.")
  return p


def main(argv=None) -> int:
  """Command-line entry point; bad input ends with a one-line error, not a traceback."""
  p = build_parser()
  args = vars(p.parse_args(argv))
  run_list, baselines_spec = args.pop('runs'), args.pop('baselines')
  try:
    if run_list or baselines_spec:
      if args['workdir'] or args['baseline'] or args['classifier']:
        raise ValueError('--runs/--baselines make a leaderboard: leave out --workdir, '
                         '--baseline and --classifier.')
      leaderboard.run(run_list, baselines_spec, args['data'], args['hole'], args['limit'],
                      args['seed'], args['batch_size'], args['out'], args['flip_average'],
                      args['weights'], args['samples'], args['sampler'],
                      args['sample_steps'], args['temperature'])
    else:
      run(**args)
  except (ValueError, FileNotFoundError, ConfigError, RunError) as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  return 0


if __name__ == '__main__':
  sys.exit(main())
