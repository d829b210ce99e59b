"""The run store: what a workdir holds, how it is written and how a run is read back.

  WORKDIR/config.json        the config the run trains with (ConfigDict JSON)
  WORKDIR/data.json          the datasets actually used (after any fallback), the image shape
  WORKDIR/checkpoints/STEP   orbax checkpoints of the whole state (checkpoint.py)
  WORKDIR/damaged_checkpoints/STEP   checkpoints that could not be restored, moved aside
  WORKDIR/metrics.jsonl, tensorboard/, grids/, profile/   what training logs (logs.py)
  WORKDIR/eval/eval_*.json   the evaluator's reports (evaluate.py), one per data × hole
An exported model (one file: export.py writes it, the end of this file reads it) or a shipped
one (`shipped:NAME`) is read by the same functions.

The trainer, the evaluator, the leaderboard, the classifier test, `inpaint` and the warm start
read runs through `read_run`; only the trainer writes them.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import subprocess

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from flax import serialization

from inpaintjax import checkpoint, config_base, parallel, tasks
from inpaintjax.errors import RunError
from inpaintjax.tasks import ema

CONFIG_FILE, DATA_FILE, EVAL_DIR = 'config.json', 'data.json', 'eval'

# Fields that do not change what is trained: a resumed run may change them freely.
LOOP_FIELDS = frozenset({
    'num_steps', 'log_every', 'eval_every', 'checkpoint_every', 'keep_checkpoints', 'prefetch',
    'grid_images', 'eval_batch_size', 'profile_steps', 'cpu_devices', 'distributed',
    'allow_config_change'})
# The diffusion fields that the commands' sampling flags set (evaluate, leaderboard).
SAMPLING_FLAGS = {'samples': 'eval_samples', 'sampler': 'sampler',
                  'sample_steps': 'sample_steps', 'temperature': 'temperature'}
# Fields that change only inference and evaluation: allowed with allow_config_change=true.
# A diffusion run's sampler (what the sampling flags set, and inpaint's K) reads the same net.
INFERENCE_FIELDS = frozenset({
    'flip_average', 'eval_seed', 'judge', 'data.eval_name', 'data.eval_split',
    'data.eval_limit', 'data.data_dir', 'data.fallback', 'diffusion.samples',
    *(f'diffusion.{field}' for field in SAMPLING_FLAGS.values())})


def frozen_inpainter(run_dir: str):
  """`guess(images01, mask)`: the inpainting of the run in `run_dir`, its weights frozen."""
  run_config, run_task, run_state = read_run(run_dir)
  if run_task.inpaint is None:
    raise ValueError(f'context_run={run_dir!r} is a {run_config.task!r} run: it does not '
                     'inpaint.')
  return lambda images01, mask: run_task.inpaint(run_state, images01, mask, None)


def make_tasks(config):
  """(the task to train, the task for inference) of `config`.

  The first keeps a moving average of the weights when `config.ema_decay` > 0 (tasks/ema.py);
  the second is the plain task, for the state `ema.weights` returns. A `config.context_run`
  (a conditional PixelCNN's first guess) is read here, where runs can be read.
  """
  extra = {}
  if config.get('context_run', ''):
    extra['guess'] = frozen_inpainter(config.context_run)
  task = tasks.make(config, **extra)
  decay = config.get('ema_decay', 0.0)
  return (ema.with_ema(task, decay) if decay else task), task


def make_task(config):
  """The task the trainer trains (see make_tasks)."""
  return make_tasks(config)[0]


def create_state(task, config, example_batch, mesh):
  """Initialises the task's state from `config.seed`, replicated over the mesh."""
  init_key = jax.random.fold_in(jax.random.PRNGKey(config.seed), -1 % 2**31)
  init = jax.jit(task.init, out_shardings=parallel.replicated(mesh))
  return init(init_key, example_batch)


def check_writable(workdir: str) -> None:
  """Proves a file can be written in `workdir`, or raises one clear RunError.

  A folder made for the proof is removed again: nothing is left behind until the run starts.
  """
  # One probe per process: the processes of a multi-host run share the workdir and would
  # otherwise delete each other's probe.
  probe = os.path.join(workdir, f'.write_test.{os.getpid()}.{jax.process_index()}')
  existed = os.path.isdir(workdir)
  try:
    os.makedirs(workdir, exist_ok=True)
    with open(probe, 'w') as f:
      f.write('ok')
    os.remove(probe)
  except OSError as e:
    raise RunError(f'--workdir={workdir} cannot be written: {e.strerror or e}.') from e
  if not existed:
    try:
      os.rmdir(workdir)
    except OSError:
      pass  # another process of the same run has started writing into it


def _write_json(path: str, text: str) -> None:
  """Writes through a temporary file and a rename: a kill never leaves half a file."""
  tmp = path + '.tmp'
  try:
    with open(tmp, 'w') as f:
      f.write(text)
    os.replace(tmp, path)
  except OSError as e:
    raise RunError(f'Cannot write {path}: {e.strerror or e} (is the disk full?).') from e


def write_run_info(workdir: str, config, train_ds, eval_ds) -> None:
  """Saves the config and the datasets actually used (after any fallback) in the workdir."""
  try:
    os.makedirs(workdir, exist_ok=True)
  except OSError as e:
    raise RunError(f'--workdir={workdir} cannot be written: {e.strerror or e}.') from e
  _write_json(os.path.join(workdir, CONFIG_FILE), config.to_json_best_effort(indent=2))
  info = {'train': train_ds.name, 'train_size': len(train_ds), 'eval': eval_ds.name,
          'eval_size': len(eval_ds), 'image_shape': list(train_ds.images.shape[1:]),
          'commit': code_commit()}
  _write_json(os.path.join(workdir, DATA_FILE), json.dumps(info, indent=2))


def _read_json(workdir: str, name: str) -> dict:
  path = os.path.join(workdir, name)
  if not os.path.exists(path):
    raise FileNotFoundError(f'{workdir} is not a training run: it has no {name}.')
  try:
    with open(path) as f:
      return json.load(f)
  except (json.JSONDecodeError, UnicodeDecodeError) as e:
    raise RunError(f'{path} is corrupt: {e}.') from e


def is_export(path: str) -> bool:
  """Whether `path` names an exported model (a file, or `shipped:NAME`), not a run folder."""
  return path.startswith(SHIPPED_PREFIX) or os.path.isfile(path)


def read_config(workdir: str) -> ml_collections.ConfigDict:
  """The run's saved config (or an export's); fields added since it ran read at their
  defaults."""
  if is_export(workdir):
    return _export_config(resolve_export(workdir))
  return ml_collections.ConfigDict(config_base.with_defaults(_read_json(workdir, CONFIG_FILE)))


def read_data_info(workdir: str) -> dict:
  """The run's data.json: dataset names and sizes, `image_shape` (an export: the shape)."""
  if is_export(workdir):
    return _export_data_info(resolve_export(workdir))
  return _read_json(workdir, DATA_FILE)


def _flat(d: dict, prefix: str = '') -> dict:
  out = {}
  for k, v in d.items():
    if isinstance(v, dict):
      out.update(_flat(v, f'{prefix}{k}.'))
    else:
      out[f'{prefix}{k}'] = v
  return out


def config_changes(saved: dict, config) -> dict[str, tuple]:
  """{dotted field: (saved value, new value)} for every field that differs."""
  old = _flat(config_base.with_defaults(saved))
  new = _flat(json.loads(config.to_json_best_effort()))
  return {k: (old.get(k), new.get(k)) for k in sorted(set(old) | set(new))
          if old.get(k) != new.get(k) and k not in LOOP_FIELDS}


def check_resume(workdir: str, config) -> None:
  """Refuses to resume a workdir whose checkpoints were trained with another config.

  Loop fields (steps, cadences) may change; inference-only fields only with
  `config.allow_config_change`; anything else never (the checkpoint would continue another
  experiment under this one's name).
  """
  if not os.path.exists(os.path.join(workdir, CONFIG_FILE)) or not glob.glob(
      os.path.join(workdir, 'checkpoints', '[0-9]*')):
    return
  changes = config_changes(_read_json(workdir, CONFIG_FILE), config)
  if not changes:
    return
  said = '; '.join(f'{k}: {a!r} → {b!r}' for k, (a, b) in changes.items())
  training = [k for k in changes if k not in INFERENCE_FIELDS]
  if training:
    raise RunError(f'--workdir={workdir} holds a run of another config ({said}). Use another '
                   '--workdir, or the saved config\'s values to resume it.')
  if not config.get('allow_config_change', False):
    raise RunError(f'--workdir={workdir} holds a run saved with other inference settings '
                   f'({said}); pass --config.allow_config_change=true to resume with these.')
  logging.warning('Resuming %s with changed inference settings: %s', workdir, said)


def abstract_state(task, config, image_shape, mesh):
  """The shapes, dtypes and shardings of the task's state, without computing it."""
  n = max(jax.device_count(), 1)
  example = {'image': jnp.zeros((n,) + tuple(image_shape), jnp.uint8)}
  state = jax.eval_shape(lambda: create_state(task, config, example, mesh))
  return jax.tree.map(
      lambda s: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=parallel.replicated(mesh)), state)


def flip_setting(flip_average: str) -> bool | None:
  """--flip_average's 'on' / 'off' / '' (the run's own) as True / False / None."""
  settings = {'on': True, 'off': False, '': None}
  if flip_average not in settings:
    raise ValueError(f"--flip_average must be 'on', 'off' or empty, got {flip_average!r}.")
  return settings[flip_average]


def sampling_overrides(samples: int = 0, sampler: str = '', sample_steps: int = 0,
                       temperature: float | None = None) -> dict:
  """{flag: value} of the sampling flags given (--samples, --sampler, --sample_steps,
  --temperature; 0, '' and None keep the run's own setting and are left out: a temperature of
  0 is a setting)."""
  given = {'samples': samples, 'sampler': sampler, 'sample_steps': sample_steps}
  out = {flag: value for flag, value in given.items() if value}
  if temperature is not None:
    out['temperature'] = float(temperature)
  return out


def sampling_flags_apply(sampling: dict) -> str:
  """'--samples applies' / '--sampler / --sample_steps apply': the start of the error for
  sampling flags given where no diffusion run takes them."""
  flags = ' / '.join(f'--{flag}' for flag in sampling)
  return f'{flags} {"applies" if len(sampling) == 1 else "apply"} to diffusion runs'


def apply_inference_overrides(config, workdir: str, flip_average: bool | None,
                              sampling: dict | None = None) -> None:
  """--flip_average (True / False; None keeps the run's) and the sampling flags
  (`sampling_overrides`: a diffusion run's K of its K-sample readings, its sampler, its
  number of reverse steps and the temperature of its noise) on a run's config. The trained weights
  do not depend on any of them: they change how the run is read, not what it learned."""
  if flip_average is not None:
    config.flip_average = flip_average
  if not sampling:
    return
  if 'diffusion' not in config:
    raise ValueError(f'{sampling_flags_apply(sampling)}; {workdir} is a {config.task!r} run.')
  if sampling.get('samples', 2) < 2:
    raise ValueError(f'--samples must be at least 2 (the spread needs two), got '
                     f'{sampling["samples"]}.')
  for flag, value in sampling.items():
    config.diffusion[SAMPLING_FLAGS[flag]] = value


def read_run(workdir: str, flip_average: bool | None = None, weights: str = '',
             sampling: dict | None = None):
  """(config, task, state) of a finished or interrupted run, from its newest good checkpoint.

  The task and state are the inference view: the task without its averaging wrapper, the
  state with the weights `weights` names: 'ema' (the moving average), 'raw' (the trained
  weights) or '' (the average when the run keeps one). `flip_average` (True/False) overrides
  the run's inference setting (None keeps it); `sampling` (`sampling_overrides`: the K of
  a diffusion run's K-sample readings, its sampler, its reverse steps) overrides those.
  `workdir` may be an exported model's file (export.py). A damaged newest checkpoint is
  skipped (and left where it is: reading a run never changes it).
  """
  if weights not in ('',) + ema.WEIGHTS:
    raise ValueError(f"--weights must be 'ema', 'raw' or empty, got {weights!r}.")
  if is_export(workdir):
    return read_export(resolve_export(workdir), flip_average, weights, sampling)
  config = read_config(workdir)
  apply_inference_overrides(config, workdir, flip_average, sampling)
  image_shape = read_data_info(workdir)['image_shape']
  mesh = parallel.make_mesh()
  task, plain_task = make_tasks(config)
  if flip_average is not None and not task.flip_averages:
    raise ValueError(f'{workdir}: flip averaging applies to runs whose task honours '
                     f'flip_average; the {config.task!r} task does not.')
  ckpt = checkpoint.Checkpointer(workdir, read_only=True)
  try:
    state = ckpt.restore(abstract_state(task, config, image_shape, mesh), move_aside=False)
  finally:
    ckpt.close()
  if weights == 'ema' and not config.ema_decay:
    raise ValueError(f'{workdir} keeps no moving average (ema_decay = 0): use --weights=raw.')
  chosen = weights or ('ema' if config.ema_decay else 'raw')
  logging.info('Loaded %s at step %s (%s weights)', workdir, int(state.step), chosen)
  return config, plain_task, ema.weights(state, chosen)


def list_evaluations(workdir: str) -> list[dict]:
  """The evaluator's reports on this run (WORKDIR/eval/eval_*.json), oldest first; none for
  an export."""
  if is_export(workdir):
    return []
  paths = sorted(glob.glob(os.path.join(workdir, EVAL_DIR, 'eval_*.json')), key=os.path.getmtime)
  out = []
  for path in paths:
    with open(path) as f:
      out.append({'file': os.path.basename(path), **json.load(f)})
  return out


# Exported models (export.py writes them): one flax-msgpack file, read wherever a run is.

FORMAT = 'inpaintjax-export'
# The models inside the package (inpaintjax/weights/), named `shipped:NAME` wherever a run is
# taken; `inpaint` uses shipped:cifar10 when given no --workdir.
SHIPPED = {'cifar10': 'cifar10_unet.msgpack', 'mnist': 'mnist_unet.msgpack'}
SHIPPED_PREFIX = 'shipped:'
VERSION = 1


def resolve_export(path: str) -> str:
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


def export_header(path: str) -> dict:
  """The export's header: everything but the weights, the figures parsed."""
  payload = _read_payload(path)
  out = {k: v for k, v in payload.items() if k != 'state'}
  out['figures'] = json.loads(out.get('figures', '{}'))
  out['config'] = json.loads(out['config'])
  return out


def _export_config(path: str) -> ml_collections.ConfigDict:
  """The exported run's config; fields added since it ran read at their defaults."""
  return ml_collections.ConfigDict(config_base.with_defaults(export_header(path)['config']))


def _export_data_info(path: str) -> dict:
  """The data facts an export keeps: `image_shape`."""
  return {'image_shape': export_header(path)['image_shape']}


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


def read_export(path: str, flip_average: bool | None = None, weights: str = '',
                sampling: dict | None = None):
  """(config, task, state) of an export: the inference task and its state, replicated."""
  payload = _read_payload(path)
  if weights and weights != payload.get('weights'):
    raise ValueError(f'{path} holds the {payload.get("weights")} weights only (--weights='
                     f'{weights}): export the run again with --weights={weights}.')
  try:
    config = ml_collections.ConfigDict(config_base.with_defaults(json.loads(payload['config'])))
  except (json.JSONDecodeError, TypeError) as e:
    raise RunError(f'{path}: its config is corrupt ({e}).') from None
  apply_inference_overrides(config, path, flip_average, sampling)
  _, task = make_tasks(config)
  if flip_average is not None and not task.flip_averages:
    raise ValueError(f'{path}: flip averaging applies to runs whose task honours '
                     f'flip_average; the {config.task!r} task does not.')
  mesh = parallel.make_mesh()
  template = abstract_state(task, config, payload['image_shape'], mesh)
  merged = _merge(serialization.to_state_dict(template), payload['state'])
  state = serialization.from_state_dict(template, merged)
  return config, task, jax.device_put(state, parallel.replicated(mesh))
