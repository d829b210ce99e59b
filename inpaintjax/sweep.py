"""Runs a config's sweep and writes one results table and validation-loss plots.

  python -m inpaintjax.sweep --config=configs/patch_cnn.py --sweep=ablation \
      --workdir=runs/patch_sweep [--set num_steps=2000 ...] [--print]

A config file defines `get_sweep(name)`: a list of {dotted key: value}
overrides. Each member trains in WORKDIR/<member name> with the one trainer
(so an interrupted sweep resumes member by member), then the command writes
WORKDIR/results.md (final train loss, validation loss and the family's headline
metrics per member: PROTOCOL metrics, or classifier accuracies), WORKDIR/plots/<member>.png (validation loss over training, one per
configuration, as in the source's figures) and WORKDIR/plots/all.png. When members vary
several knobs (a grid), results.md also has the knobs' main effects: for each knob and each of
its values, the mean validation loss (and headline metric) of the members with that value,
knobs ordered by how much their values' means differ — which knob matters most — and
WORKDIR/plots/knobs.png draws them over training (one panel per knob, the mean curve per value).
`--print` prints the equivalent `python -m inpaintjax.main` command lines instead.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys

import numpy as np

from inpaintjax import config_base, config_check, train
from inpaintjax.errors import ConfigError, RunError


def load_sweep(config_path: str, name: str) -> list[dict]:
  """The override dicts of sweep `name` in the config file."""
  path = config_path.partition(':')[0]
  spec = importlib.util.spec_from_file_location('inpaintjax_sweep_config', path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  if not hasattr(module, 'get_sweep'):
    raise ValueError(f'{path} defines no sweeps (no get_sweep function).')
  return module.get_sweep(name)


def member_name(overrides: dict) -> str:
  """A folder name that says what a member changes: 'model.act=relu,hole=center-3'."""
  return ','.join(f'{k.split(".")[-1]}={v}' for k, v in overrides.items()) or 'base'


def read_curve(workdir: str) -> tuple[list[int], list[float], dict]:
  """(steps, validation losses, last eval metrics and last train loss) from metrics.jsonl."""
  steps, losses, last = [], [], {}
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    for line in f:
      row = json.loads(line)
      if 'eval/loss' in row:
        steps.append(row['step'])
        losses.append(row['eval/loss'])
        last.update({k[5:]: v for k, v in row.items() if k.startswith('eval/')})
      if 'train/loss' in row:
        last['train_loss'] = row['train/loss']
  return steps, losses, last


def main_effects(members: list[dict], rows: list[dict], metrics: list[str]) -> str:
  """A markdown table of each knob's main effect on `metrics` over a grid of members.

  For every key that takes more than one value across `members`, the mean of each metric over
  the members at each value; knobs are ordered by the spread (largest mean minus smallest) of
  the first metric. `rows[i]` holds member i's final figures. '' when fewer than two knobs vary.
  """
  knobs = varying_knobs(members)
  if len(knobs) < 2:
    return ''
  effects = []
  for knob in knobs:
    by_value: dict[str, list[dict]] = {}
    for m, r in zip(members, rows):
      by_value.setdefault(str(m.get(knob)), []).append(r)
    means = {v: [float(np.nanmean([r.get(c, np.nan) for r in rs])) for c in metrics]
             for v, rs in by_value.items()}
    spread = max(x[0] for x in means.values()) - min(x[0] for x in means.values())
    effects.append((spread, knob, means, {v: len(rs) for v, rs in by_value.items()}))
  effects.sort(key=lambda e: -e[0])
  lines = ['| knob | value | members | ' + ' | '.join(f'mean {c}' for c in metrics)
           + f' | spread of mean {metrics[0]} |', '|---' * (len(metrics) + 4) + '|']
  for spread, knob, means, counts in effects:
    for i, (value, row) in enumerate(means.items()):
      lines.append(f'| {knob if i == 0 else ""} | {value} | {counts[value]} | '
                   + ' | '.join(f'{x:.4g}' for x in row) + f' | {f"{spread:.4g}" if i == 0 else ""} |')
  return '\n'.join(lines)


def varying_knobs(members: list[dict]) -> list[str]:
  """The override keys that take more than one value across `members`."""
  return [k for k in dict.fromkeys(k for m in members for k in m)
          if len({repr(m.get(k)) for m in members}) > 1]


def plot_knob_curves(path: str, members: list[dict], curves: list[tuple], plt) -> None:
  """One panel per varying knob: the mean validation-loss curve of the members at each of its
  values (over their common evaluation steps) — the main effects, over training."""
  knobs = varying_knobs(members)
  fig, axes = plt.subplots(1, len(knobs), figsize=(3.2 * len(knobs), 3), squeeze=False)
  for ax, knob in zip(axes[0], knobs):
    by_value: dict[str, list] = {}
    for m, (steps, losses, _) in zip(members, curves):
      by_value.setdefault(str(m.get(knob)), []).append((steps, losses))
    for value, group in by_value.items():
      n = min(len(steps) for steps, _ in group)
      if n:
        ax.plot(group[0][0][:n], np.mean([losses[:n] for _, losses in group], axis=0),
                marker='o', label=f'{value} ({len(group)})')
    ax.set_title(knob, fontsize=9)
    ax.set_xlabel('step')
    ax.legend(fontsize=7)
  axes[0][0].set_ylabel('mean validation loss')
  fig.tight_layout()
  fig.savefig(path)
  plt.close(fig)


def write_report(workdir: str, names: list[str], members: list[dict] | None = None) -> str:
  """results.md and the plots for the members in `names` (whose overrides are `members`, for
  the main-effects table); returns the tables."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  os.makedirs(os.path.join(workdir, 'plots'), exist_ok=True)
  curves = {name: read_curve(os.path.join(workdir, name)) for name in names}
  # The family's headline metrics, those that some member reports.
  wanted = ('hole_psnr', 'rgb_dist', 'maem', 'ssim', 'sharpness', 'accuracy', 'accuracy_multiple',
            'accuracy_corrected_single', 'accuracy_corrected_multiple')
  cols = ['train_loss', 'loss'] + [c for c in wanted if any(c in cv[2] for cv in curves.values())]
  lines = ['| member | ' + ' | '.join(c if c != 'loss' else 'val_loss' for c in cols) + ' |',
           '|---' * (len(cols) + 1) + '|']
  fig_all, ax_all = plt.subplots(figsize=(8, 5))
  for name in names:
    steps, losses, last = curves[name]
    lines.append(f'| {name} | ' + ' | '.join(f'{last.get(c, float("nan")):.4g}' for c in cols)
                 + ' |')
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for a in (ax, ax_all):
      a.plot(steps, losses, marker='o', label=name)
      a.set_xlabel('step')
      a.set_ylabel('validation loss')
    ax.set_title(name, fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(workdir, 'plots', f'{name}.png'))
    plt.close(fig)
  ax_all.legend(fontsize=5)
  fig_all.tight_layout()
  fig_all.savefig(os.path.join(workdir, 'plots', 'all.png'))
  plt.close(fig_all)
  table = '\n'.join(lines)
  if members:
    effect_metrics = ['loss'] + [c for c in cols if c in ('hole_psnr', 'accuracy_corrected_multiple')]
    effects = main_effects(members, [curves[n][2] for n in names], effect_metrics)
    if effects:
      plot_knob_curves(os.path.join(workdir, 'plots', 'knobs.png'), members,
                       [curves[n] for n in names], plt)
      table += ('\n\nMain effects (mean over the members at each value; "loss" is the '
                'validation loss), the knob that matters most first:\n\n' + effects)
  with open(os.path.join(workdir, 'results.md'), 'w') as f:
    f.write(table + '\n')
  return table


def build_parser() -> argparse.ArgumentParser:
  """The command's flags (the tests parse every documented command line with it)."""
  p = argparse.ArgumentParser(prog='python -m inpaintjax.sweep', description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument('--config', required=True)
  p.add_argument('--sweep', required=True)
  p.add_argument('--workdir', default='')
  p.add_argument('--set', nargs='*', default=[], help='Overrides for every member: a.b=v.')
  p.add_argument('--members', default='', help='Run only these member indices: 0,3,5.')
  p.add_argument('--print', action='store_true', help='Print the command lines only.')
  return p


def main(argv=None) -> int:
  """Command-line entry point."""
  p = build_parser()
  args = p.parse_args(argv)
  workdir = args.workdir or os.path.join(
      'runs', f'{config_base.config_name(args.config)}_sweep_{args.sweep}')
  try:
    members = load_sweep(args.config, args.sweep)
    if args.members:
      members = [members[int(i)] for i in args.members.split(',')]
    common = {}
    for item in args.set:
      key, sep, value = item.partition('=')
      if not sep:
        raise ValueError(f'--set takes a.b=value, got {item!r}.')
      common[key] = value
    names = [member_name(m) for m in members]
    if args.print:
      for name, m in zip(names, members):
        flags = ' '.join(f'--config.{k}={v}' for k, v in {**m, **common}.items())
        print(f'python -m inpaintjax.main --config={args.config} '
              f'--workdir={os.path.join(workdir, name)} {flags}')
      return 0
    configs = []
    for name, overrides in zip(names, members):  # Every member checked before any trains.
      config = config_base.load_config(args.config)
      config_base.apply_overrides(config, overrides)
      config_base.apply_overrides(config, common, from_strings=True)
      try:
        config_check.validate(config)
      except ConfigError as e:
        raise ConfigError(f'member {name}: {e}') from None
      configs.append(config)
    for name, config in zip(names, configs):
      print(f'== {name}', flush=True)
      train.train_and_evaluate(config, os.path.join(workdir, name))
    print(write_report(workdir, names, members))
  except train.Preempted as e:
    print(f'{e}; rerun the same command to resume the sweep.', file=sys.stderr)
    return train.EXIT_PREEMPTED
  except (ValueError, KeyError, FileNotFoundError, RunError) as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  return 0


if __name__ == '__main__':
  sys.exit(main())
