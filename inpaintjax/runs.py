"""The run store: what a workdir holds, how it is written and how a run is read back.

  WORKDIR/config.json        the config the run trains with (ConfigDict JSON)
  WORKDIR/data.json          the datasets actually used (after any fallback), the image shape
  WORKDIR/checkpoints/STEP   orbax checkpoints of the whole state (checkpoint.py)
  WORKDIR/damaged_checkpoints/STEP   checkpoints that could not be restored, moved aside
  WORKDIR/metrics.jsonl, tensorboard/, grids/, profile/   what training logs (logs.py)
  WORKDIR/eval/eval_*.json   the evaluator's reports (evaluate.py), one per data × hole
An exported model (one file, export.py) is read by the same functions.

The trainer, the evaluator, the leaderboard, the classifier test, `inpaint` and the warm start
read runs through `read_run`; only the trainer writes them.
"""

from __future__ import annotations

import glob
import json
import logging
import os

import jax
import jax.numpy as jnp
import ml_collections

from inpaintjax import checkpoint, config_base, parallel, tasks
from inpaintjax.errors import RunError
from inpaintjax.tasks import ema

CONFIG_FILE, DATA_FILE, EVAL_DIR = 'config.json', 'data.json', 'eval'

# Fields that do not change what is trained: a resumed run may change them freely.
LOOP_FIELDS = frozenset({
    'num_steps', 'log_every', 'eval_every', 'checkpoint_every', 'keep_checkpoints', 'prefetch',
    'grid_images', 'eval_batch_size', 'profile_steps', 'cpu_devices', 'distributed',
    'allow_config_change'})
# Fields that change only inference and evaluation: allowed with allow_config_change=true.
INFERENCE_FIELDS = frozenset({
    'flip_average', 'eval_seed', 'judge', 'data.eval_name', 'data.eval_split',
    'data.eval_limit', 'data.data_dir', 'data.fallback'})


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
  from inpaintjax import export  # The exporter reads runs: imported here, not at the top.
  info = {'train': train_ds.name, 'train_size': len(train_ds), 'eval': eval_ds.name,
          'eval_size': len(eval_ds), 'image_shape': list(train_ds.images.shape[1:]),
          'commit': export.code_commit()}
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
  from inpaintjax import export
  return path.startswith(export.SHIPPED_PREFIX) or os.path.isfile(path)


def read_config(workdir: str) -> ml_collections.ConfigDict:
  """The run's saved config (or an export's); fields added since it ran read at their
  defaults."""
  if is_export(workdir):
    from inpaintjax import export
    return export.read_config(export.resolve(workdir))
  return ml_collections.ConfigDict(config_base.with_defaults(_read_json(workdir, CONFIG_FILE)))


def read_data_info(workdir: str) -> dict:
  """The run's data.json: dataset names and sizes, `image_shape` (an export: the shape)."""
  if is_export(workdir):
    from inpaintjax import export
    return export.read_data_info(export.resolve(workdir))
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


def apply_inference_overrides(config, workdir: str, flip_average: bool | None,
                              samples: int) -> None:
  """--flip_average (True / False; None keeps the run's) and --samples (a diffusion run's K of
  its K-sample readings; 0 keeps the run's) on a run's config."""
  if flip_average is not None:
    config.flip_average = flip_average
  if samples:
    if 'diffusion' not in config:
      raise ValueError(f'--samples applies to diffusion runs; {workdir} is a {config.task!r} '
                       'run.')
    if samples < 2:
      raise ValueError(f'--samples must be at least 2 (the spread needs two), got {samples}.')
    config.diffusion.eval_samples = samples


def read_run(workdir: str, flip_average: bool | None = None, weights: str = '',
             samples: int = 0):
  """(config, task, state) of a finished or interrupted run, from its newest good checkpoint.

  The task and state are the inference view: the task without its averaging wrapper, the
  state with the weights `weights` names: 'ema' (the moving average), 'raw' (the trained
  weights) or '' (the average when the run keeps one). `flip_average` (True/False) overrides
  the run's inference setting (None keeps it); `samples` > 0 sets a diffusion run's
  `eval_samples` (the K of its K-sample readings). `workdir` may be an exported model's file
  (export.py). A damaged newest checkpoint is skipped (and
  left where it is: reading a run never changes it).
  """
  if weights not in ('',) + ema.WEIGHTS:
    raise ValueError(f"--weights must be 'ema', 'raw' or empty, got {weights!r}.")
  if is_export(workdir):
    from inpaintjax import export
    return export.read(export.resolve(workdir), flip_average, weights, samples)
  config = read_config(workdir)
  apply_inference_overrides(config, workdir, flip_average, samples)
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
