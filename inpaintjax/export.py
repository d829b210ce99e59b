"""Exported models: one file holding what inference needs and nothing else.

  python -m inpaintjax.export --workdir=RUN --out=model.msgpack [--dtype=float16] [--weights=raw]
  python -m inpaintjax.export --show=model.msgpack      (what the file holds, without its weights)

The file is flax msgpack (no pickle, nothing executed on load): a header — `format`,
`version`, the run's config (JSON), the data's image shape, the commit of the code that trained
the run and of the code that exported it, the step, which weights (the moving average or the
trained ones) and the figures the run reached (its last in-training evaluation and the
evaluator's reports) — and the inference state: the weights and whatever else the task's
inference reads (a regression run's fill value, batch statistics), without the optimiser state.
`--dtype=float16|bfloat16` stores the floating-point leaves at half size; they are read back at
the model's own dtype.

`inpaint`, `evaluate` and the leaderboard take such a file wherever they take a run folder
(`runs.read_run` reads both), and `shipped:cifar10` / `shipped:mnist` name the exports inside
the package (inpaintjax/weights/; `inpaint` with no --workdir uses shipped:cifar10). A file of a newer format, a truncated file or one that is not an
export is refused with one line that says which.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
from flax import serialization

from inpaintjax import runs
from inpaintjax.errors import ConfigError, RunError
# The format and its reader live with the run store (runs.py), which reads exports as runs.
from inpaintjax.runs import FORMAT, SHIPPED, SHIPPED_PREFIX, VERSION, code_commit  # noqa: F401
from inpaintjax.runs import export_header as header  # noqa: F401
from inpaintjax.runs import resolve_export as resolve  # noqa: F401

DTYPES = ('float32', 'float16', 'bfloat16')
OPTIMIZER_KEYS = frozenset({'opt_state'})


def _without_optimizer(tree):
  if isinstance(tree, dict):
    return {k: _without_optimizer(v) for k, v in tree.items() if k not in OPTIMIZER_KEYS}
  return tree


def _stored(leaf, dtype: str):
  arr = np.asarray(leaf)
  if dtype != 'float32' and jnp.issubdtype(arr.dtype, jnp.floating):
    return np.asarray(jnp.asarray(arr, dtype))
  return arr


def run_figures(workdir: str) -> dict:
  """The run's last in-training evaluation ({metric: value}) and the evaluator's reports."""
  last = {}
  path = os.path.join(workdir, 'metrics.jsonl')
  if os.path.exists(path):
    with open(path) as f:
      for line in f:
        try:
          row = json.loads(line)
        except json.JSONDecodeError:  # A line cut short by a kill: the ones before count.
          continue
        evals = {k.removeprefix('eval/'): v for k, v in row.items() if k.startswith('eval/')}
        if evals:
          last = {'step': row.get('step'), **evals}
  return {'last_eval': last, 'evaluations': runs.list_evaluations(workdir)}


def export(workdir: str, out: str, dtype: str = 'float32', weights: str = '') -> dict:
  """Writes the export of the run in `workdir` to `out`; returns its header."""
  if dtype not in DTYPES:
    raise ValueError(f'--dtype must be one of {DTYPES}, got {dtype!r}.')
  config, task, state = runs.read_run(workdir, weights=weights)
  if config.get('context_run', ''):
    raise ValueError(f'{workdir} reads another run ({config.context_run}) at inference: '
                     'exporting a run that depends on another run is not supported.')
  header = {
      'format': FORMAT, 'version': VERSION, 'config': config.to_json_best_effort(),
      'image_shape': [int(d) for d in runs.read_data_info(workdir)['image_shape']],
      'run_commit': runs.read_data_info(workdir).get('commit', 'not recorded'),
      'export_commit': code_commit(), 'step': int(state.step),
      'weights': weights or ('ema' if config.get('ema_decay', 0.0) else 'raw'),
      'dtype': dtype, 'figures': json.dumps(run_figures(workdir)),
      'source': os.path.abspath(workdir)}
  tree = jax.tree.map(lambda leaf: _stored(leaf, dtype),
                      _without_optimizer(serialization.to_state_dict(state)))
  blob = serialization.msgpack_serialize({**header, 'state': tree})
  os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
  tmp = f'{out}.tmp.{os.getpid()}'
  with open(tmp, 'wb') as f:  # Written whole, then renamed: a kill leaves no half file.
    f.write(blob)
  os.replace(tmp, out)
  return header


def build_parser() -> argparse.ArgumentParser:
  """The command's flags."""
  p = argparse.ArgumentParser(prog='python -m inpaintjax.export', description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument('--workdir', default='', help='The training run to export.')
  p.add_argument('--out', default='', help='The file to write (e.g. model.msgpack).')
  p.add_argument('--dtype', default='float32', choices=DTYPES,
                 help='Storage of the floating-point weights (read back at the model dtype).')
  p.add_argument('--weights', default='', choices=('', 'ema', 'raw'),
                 help="'ema' or 'raw' (default: the moving average when the run keeps one).")
  p.add_argument('--show', default='', help='Print the header of an exported file.')
  return p


def main(argv=None) -> int:
  """Command-line entry point; bad input ends with a one-line error, not a traceback."""
  args = build_parser().parse_args(argv)
  try:
    if args.show:
      info = header(args.show)
      info['config'] = f'{info["config"].get("task")} / {info["config"]["model"].get("name")}'
      print(json.dumps(info, indent=2))
      return 0
    if not args.workdir or not args.out:
      raise ValueError('Give --workdir=RUN and --out=FILE (or --show=FILE).')
    head = export(args.workdir, args.out, args.dtype, args.weights)
    print(f'{args.out}: {os.path.getsize(args.out) / 1e6:.2f} MB, step {head["step"]}, '
          f'{head["weights"]} weights stored as {args.dtype}.')
  except (ValueError, FileNotFoundError, ConfigError, RunError) as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  return 0


if __name__ == '__main__':
  sys.exit(main())
