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
import subprocess
import sys

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from flax import serialization

from inpaintjax import config_base, parallel
from inpaintjax.errors import ConfigError, RunError

FORMAT = 'inpaintjax-export'
# The models inside the package (inpaintjax/weights/), named `shipped:NAME` wherever a run is
# taken; `inpaint` uses shipped:cifar10 when given no --workdir.
SHIPPED = {'cifar10': 'cifar10_unet.msgpack', 'mnist': 'mnist_unet.msgpack'}
SHIPPED_PREFIX = 'shipped:'
VERSION = 1
DTYPES = ('float32', 'float16', 'bfloat16')
OPTIMIZER_KEYS = frozenset({'opt_state'})


def code_commit() -> str:
  """The git commit of the code running now ('-dirty' when the tree has changes), or the
  package version when the code is not a git checkout."""
  here = os.path.dirname(os.path.abspath(__file__))
  try:
    commit = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=here, capture_output=True,
                            text=True, timeout=10, check=True).stdout.strip()
    dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'], cwd=here,
                           capture_output=True, text=True, timeout=10).stdout.strip()
    return commit + ('-dirty' if dirty else '')
  except (OSError, subprocess.SubprocessError):
    from importlib import metadata
    try:
      return f'inpaintjax {metadata.version("inpaintjax")}'
    except metadata.PackageNotFoundError:
      return 'unknown'


def resolve(path: str) -> str:
  """`path`, or the file of a shipped model named `shipped:NAME`."""
  if not path.startswith(SHIPPED_PREFIX):
    return path
  name = path.removeprefix(SHIPPED_PREFIX)
  if name not in SHIPPED:
    raise ValueError(f'Unknown shipped model {name!r}; shipped: '
                     f'{", ".join(SHIPPED_PREFIX + k for k in SHIPPED)}.')
  file = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'weights', SHIPPED[name])
  if not os.path.isfile(file):
    raise FileNotFoundError(f'{path}: {file} is not installed with this copy of inpaintjax.')
  return file


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
  from inpaintjax import runs
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
  from inpaintjax import runs
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


def _read_payload(path: str) -> dict:
  if not os.path.exists(path):
    raise FileNotFoundError(f'{path}: no such exported model.')
  with open(path, 'rb') as f:
    blob = f.read()
  try:
    payload = serialization.msgpack_restore(blob)
  except Exception as e:  # msgpack raises several types for cut or foreign bytes.
    raise RunError(f'{path} is not an inpaintjax export, or it is truncated or corrupt '
                   f'({type(e).__name__}).') from None
  if not isinstance(payload, dict) or payload.get('format') != FORMAT:
    raise RunError(f'{path} is not an inpaintjax export (no {FORMAT!r} header).')
  version = payload.get('version')
  if not isinstance(version, int) or version > VERSION:
    raise RunError(f'{path} is an export of format version {version}; this inpaintjax reads '
                   f'up to version {VERSION}: upgrade inpaintjax to read it.')
  if 'state' not in payload or 'config' not in payload:
    raise RunError(f'{path} is an incomplete export (no state or config).')
  return payload


def header(path: str) -> dict:
  """The export's header: everything but the weights, the figures parsed."""
  payload = _read_payload(path)
  out = {k: v for k, v in payload.items() if k != 'state'}
  out['figures'] = json.loads(out.get('figures', '{}'))
  out['config'] = json.loads(out['config'])
  return out


def read_config(path: str) -> ml_collections.ConfigDict:
  """The exported run's config; fields added since it ran read at their defaults."""
  return ml_collections.ConfigDict(config_base.with_defaults(header(path)['config']))


def read_data_info(path: str) -> dict:
  """The data facts an export keeps: `image_shape`."""
  return {'image_shape': header(path)['image_shape']}


def _merge(template, stored, where: str = 'state'):
  """`template`'s structure with `stored`'s values: shapes checked, dtypes restored; leaves the
  export leaves out (the optimiser state) are zeros."""
  if isinstance(template, dict):
    stored = stored if isinstance(stored, dict) else {}
    return {k: _merge(v, stored.get(k), f'{where}/{k}') for k, v in template.items()}
  if stored is None:
    return jnp.zeros(template.shape, template.dtype)
  arr = np.asarray(stored)
  if tuple(arr.shape) != tuple(template.shape):
    raise RunError(f'the export\'s {where} has shape {arr.shape}; the config builds '
                   f'{tuple(template.shape)}: the file does not match its own config.')
  return jnp.asarray(arr, template.dtype)


def read(path: str, flip_average: bool | None = None, weights: str = '', samples: int = 0):
  """(config, task, state) of an export: the inference task and its state, replicated."""
  from inpaintjax import runs
  payload = _read_payload(path)
  if weights and weights != payload.get('weights'):
    raise ValueError(f'{path} holds the {payload.get("weights")} weights only (--weights='
                     f'{weights}): export the run again with --weights={weights}.')
  try:
    config = ml_collections.ConfigDict(config_base.with_defaults(json.loads(payload['config'])))
  except (json.JSONDecodeError, TypeError) as e:
    raise RunError(f'{path}: its config is corrupt ({e}).') from None
  runs.apply_inference_overrides(config, path, flip_average, samples)
  _, task = runs.make_tasks(config)
  if flip_average is not None and not task.flip_averages:
    raise ValueError(f'{path}: flip averaging applies to runs whose task honours '
                     f'flip_average; the {config.task!r} task does not.')
  mesh = parallel.make_mesh()
  template = runs.abstract_state(task, config, payload['image_shape'], mesh)
  merged = _merge(serialization.to_state_dict(template), payload['state'])
  state = serialization.from_state_dict(template, merged)
  return config, task, jax.device_put(state, parallel.replicated(mesh))


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
