"""The one training loop: data -> jitted step -> metrics -> evaluation -> checkpoint.

Every family runs through `train_and_evaluate`; what differs lives in its task
(tasks/). The loop is resume-exact: the batch and the key of step `s` depend
only on (seed, s), and the orbax checkpoint restores parameters, optimizer
state and the step, so N steps + restart + N steps equals 2N steps straight.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
import tqdm

from inpaintjax import checkpoint, config_base, evaluate, parallel, tasks
from inpaintjax.data import pipeline, sources
from inpaintjax.logs import MetricLogger


class NonFiniteLossError(FloatingPointError):
  """Training produced a NaN or Inf loss."""


def write_run_info(workdir: str, config, train_ds, eval_ds) -> None:
  """Saves the config and the datasets actually used (after any fallback) in the workdir."""
  os.makedirs(workdir, exist_ok=True)
  with open(os.path.join(workdir, 'config.json'), 'w') as f:
    f.write(config.to_json_best_effort(indent=2))
  info = {'train': train_ds.name, 'train_size': len(train_ds), 'eval': eval_ds.name,
          'eval_size': len(eval_ds), 'image_shape': list(train_ds.images.shape[1:])}
  with open(os.path.join(workdir, 'data.json'), 'w') as f:
    json.dump(info, f, indent=2)


def create_state(task, config, example_batch, mesh):
  """Initialises the task's state, replicated over the mesh."""
  init_key = jax.random.fold_in(jax.random.PRNGKey(config.seed), -1 % 2**31)
  init = jax.jit(task.init, out_shardings=parallel.replicated(mesh))
  return init(init_key, example_batch)


def warm_start(task, state, source_dir: str):
  """(a fresh `state` with the trained weights of the run in `source_dir`, a log line).

  `config.init_from`: e.g. an adversarial context encoder fine-tuned from an L2 one. Only a
  fresh run warm-starts; a run that resumes from its own checkpoint ignores it.
  """
  _, _, source = read_run(source_dir)
  copy = task.warm_start or checkpoint.copy_trained
  state, copied = copy(state, source)
  if not copied:
    raise ValueError(f'init_from={source_dir!r}: no parameter of that run matches this model '
                     '(different architecture?).')
  return state, f'Initialised {copied} arrays from {source_dir} (step {int(source.step)})'


def jit_train_step(task, mesh):
  """The task's train step, jitted with the batch sharded and the state donated."""
  repl, data = parallel.replicated(mesh), parallel.batch_sharding(mesh)
  return jax.jit(task.train_step, in_shardings=(repl, data, repl), out_shardings=(repl, repl),
                 donate_argnums=0)


def train_and_evaluate(config, workdir: str) -> dict[str, float]:
  """Trains `config` in `workdir` (resuming if it holds a checkpoint); returns the last eval."""
  parallel.check_batch_size(config.batch_size)
  train_ds = sources.load_split(config.data, 'train')
  eval_ds = sources.load_split(config.data, 'eval')
  write_run_info(workdir, config, train_ds, eval_ds)
  log = MetricLogger(workdir, enabled=jax.process_index() == 0)
  log.info(f'train: {train_ds.name} ({len(train_ds)} images {train_ds.images.shape[1:]}), '
           f'eval: {eval_ds.name} ({len(eval_ds)}); {jax.device_count()} '
           f'{jax.default_backend()} device(s)')

  mesh = parallel.make_mesh()
  task = tasks.make(config)
  if task.check_data is not None:
    task.check_data(train_ds)
    task.check_data(eval_ds)
  data_sharding = parallel.batch_sharding(mesh)
  step_batch = config.batch_size * task.batch_multiple
  order = pipeline.EpochOrder(len(train_ds), config.seed)
  example = pipeline.to_global(
      pipeline.batch_at(train_ds, order, 0, step_batch, jax.process_index(),
                        jax.process_count()), data_sharding)
  state = create_state(task, config, example, mesh)
  n_params = sum(x.size for x in jax.tree.leaves(getattr(state, 'params', state)))
  log.info(f'{config.task} task: {n_params:,} parameters')

  ckpt = checkpoint.Checkpointer(workdir, config.keep_checkpoints)
  start_step = 0
  if ckpt.latest_step() is not None:
    state = ckpt.restore(state)
    start_step = int(jax.device_get(state.step))
    log.info(f'Resumed from step {start_step} in {ckpt.directory}')
  elif config.init_from:
    state, message = warm_start(task, state, config.init_from)
    log.info(message)
  last_saved = ckpt.latest_step()

  train_step = jit_train_step(task, mesh)
  train_key = jax.random.PRNGKey(config.seed)
  batches = pipeline.train_batches(train_ds, step_batch, config.seed, start_step,
                                   data_sharding, config.prefetch)
  window: dict[str, list] = {}
  eval_metrics: dict[str, float] = {}
  progress = tqdm.tqdm(total=config.num_steps, initial=start_step, unit='step',
                       disable=jax.process_index() != 0, mininterval=2.0, dynamic_ncols=True)
  window_start = time.time()
  try:
    for step in range(start_step, config.num_steps):
      state, metrics = train_step(state, next(batches), jax.random.fold_in(train_key, step))
      metrics = jax.device_get(metrics)
      if not all(math.isfinite(float(v)) for v in metrics.values()):
        raise NonFiniteLossError(
            f'Non-finite training metrics at step {step}: {metrics}. The last good checkpoint '
            f'is step {last_saved} in {ckpt.directory}; lower the learning rate or add '
            'optim.grad_clip and rerun with the same --workdir to resume from it.')
      for k, v in metrics.items():
        window.setdefault(k, []).append(float(v))
      done = step + 1
      progress.update(1)
      if done % config.log_every == 0 or done == config.num_steps:
        # Means over this logging window only; the window is reset after every write.
        means = {f'train/{k}': float(np.mean(v)) for k, v in window.items()}
        means['train/steps_per_sec'] = len(window['loss']) / (time.time() - window_start)
        window, window_start = {}, time.time()
        log.scalars(done, means)
        progress.set_postfix(loss=f'{means["train/loss"]:.4g}')
      if done % config.eval_every == 0 or done == config.num_steps:
        eval_metrics = evaluate.evaluate_state(
            task, state, eval_ds, config, mesh,
            grid_path=os.path.join(workdir, 'grids', f'step_{done:07d}.png'))
        log.scalars(done, {f'eval/{k}': v for k, v in eval_metrics.items()})
      if done % config.checkpoint_every == 0 or done == config.num_steps:
        ckpt.save(done, state)
        last_saved = done
  finally:
    # Whatever stops the loop (end, NaN, Ctrl-C, a crash), saves already started reach disk
    # and the prefetch thread is stopped before the interpreter can exit.
    batches.close()
    progress.close()
    ckpt.close()
    log.close()
  return eval_metrics


def read_run(workdir: str, flip_average: bool | None = None):
  """(config, task, state) of a finished or interrupted run, from its latest checkpoint.

  `flip_average` (True/False) overrides the run's inference setting (None keeps it): the
  same weights scored with and without averaging the mirror image's prediction.
  """
  import ml_collections  # pylint: disable=g-import-not-at-top
  for name in ('config.json', 'data.json'):
    if not os.path.exists(os.path.join(workdir, name)):
      raise FileNotFoundError(f'{workdir} is not a training run: it has no {name}.')
  with open(os.path.join(workdir, 'config.json')) as f:
    # Runs saved before a field existed read it at its default.
    config = ml_collections.ConfigDict(config_base.with_defaults(json.load(f)))
  if flip_average is not None:
    config.flip_average = flip_average
  with open(os.path.join(workdir, 'data.json')) as f:
    image_shape = tuple(json.load(f)['image_shape'])
  mesh = parallel.make_mesh()
  task = tasks.make(config)
  if flip_average is not None and not task.flip_averages:
    raise ValueError(f'{workdir}: flip averaging applies to runs whose task honours '
                     f'flip_average; the {config.task!r} task does not.')
  n = max(jax.device_count(), 1)
  example = {'image': jnp.zeros((n,) + image_shape, jnp.uint8)}
  state = jax.eval_shape(lambda: create_state(task, config, example, mesh))
  state = jax.tree.map(
      lambda s: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=parallel.replicated(mesh)), state)
  ckpt = checkpoint.Checkpointer(workdir)
  state = ckpt.restore(state)
  ckpt.close()
  logging.info('Loaded %s at step %s', workdir, int(state.step))
  return config, task, state
