"""The one training loop: data -> jitted step -> metrics -> evaluation -> checkpoint.

Every family runs through `train_and_evaluate`; what differs lives in its task
(tasks/). The loop is resume-exact: the batch and the key of step `s` depend
only on (seed, s), and the orbax checkpoint restores parameters, optimizer
state (and the moving average of the weights, if kept) and the step, so N steps + restart +
N steps equals 2N steps straight, whether the run was killed (the work since the last
checkpoint is redone) or preempted (SIGTERM/SIGINT: the step reached is saved, see `Stop`).
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time

import jax
import numpy as np
import tqdm
from jax.experimental import multihost_utils

from inpaintjax import checkpoint, classifier_test, config_check, parallel, runs, scoring
from inpaintjax.data import masks, pipeline, sources
from inpaintjax.errors import ConfigError
from inpaintjax.logs import MetricLogger

# The exit status of a preempted run (EX_TEMPFAIL): "try again", which a launcher can requeue.
EXIT_PREEMPTED = 75


class NonFiniteLossError(FloatingPointError):
  """Training produced a NaN or Inf loss."""


class Preempted(Exception):
  """Training stopped on SIGTERM/SIGINT after saving a checkpoint at `step`."""

  def __init__(self, step: int, signal_name: str):
    super().__init__(f'preempted at step {step} ({signal_name}), checkpoint saved')
    self.step = step


class Stop:
  """SIGTERM and SIGINT while training: finish the step, then stop (see `requested`).

  What TPU preemption and SLURM send before they kill. A second SIGINT (Ctrl-C twice) stops at
  once, as Python would. In a multi-process run every process must save the same step: each
  step the processes agree (any one signalled stops all of them after that step).
  """

  SIGNALS = (signal.SIGTERM, signal.SIGINT)

  def __init__(self):
    self.received = None
    self._previous = {}

  def _handle(self, signum, frame):
    del frame
    if self.received is not None and signum == signal.SIGINT:
      raise KeyboardInterrupt
    self.received = signal.Signals(signum).name

  def __enter__(self):
    # Python delivers signals to the main thread only; elsewhere (a notebook's worker) the
    # defaults stay.
    if threading.current_thread() is threading.main_thread():
      self._previous = {s: signal.signal(s, self._handle) for s in self.SIGNALS}
    return self

  def __exit__(self, *exc):
    for s, handler in self._previous.items():
      signal.signal(s, handler)

  def requested(self) -> bool:
    """Whether this step is the last one, the same answer on every process."""
    here = self.received is not None
    if jax.process_count() == 1:
      return here
    return bool(np.any(multihost_utils.process_allgather(np.int32(here))))


def parse_profile_steps(text: str) -> tuple[int, int] | None:
  """`config.profile_steps` 'A:B' → (A, B), the steps A..B-1 to trace; '' → None."""
  if not text:
    return None
  try:
    first, last = (int(x) for x in text.split(':'))
  except ValueError:
    first, last = -1, -1
  if not 0 <= first < last:
    raise ConfigError(f"profile_steps={text!r}: expected 'A:B' with 0 <= A < B (steps A..B-1).")
  return first, last


def warm_start(task, state, source_dir: str):
  """(a fresh `state` with the trained weights of the run in `source_dir`, a log line).

  `config.init_from`: e.g. an adversarial context encoder fine-tuned from an L2 one. Only a
  fresh run warm-starts; a run that resumes from its own checkpoint ignores it. A source that
  keeps a moving average gives its averaged weights.
  """
  _, _, source = runs.read_run(source_dir)
  copy = task.warm_start or checkpoint.copy_trained
  state, copied = copy(state, source)
  if not copied:
    raise ConfigError(f'init_from={source_dir!r}: no parameter of that run matches this model '
                      '(different architecture?).')
  return state, f'Initialised {copied} arrays from {source_dir} (step {int(source.step)})'


def jit_train_step(task, mesh):
  """The task's train step, jitted with the batch sharded and the state donated."""
  repl, data = parallel.replicated(mesh), parallel.batch_sharding(mesh)
  return jax.jit(task.train_step, in_shardings=(repl, data, repl), out_shardings=(repl, repl),
                 donate_argnums=0)


def evaluate_in_training(task, state, eval_ds, config, mesh, grid_path=None) -> dict:
  """The periodic evaluation: scoring.evaluate_state and, when `config.judge` names a
  classifier run, its accuracy on the task's outputs."""
  results = scoring.evaluate_state(task, state, eval_ds, config, mesh, grid_path)
  if config.get('judge'):
    results.update(classifier_test.judge_metrics(task, state, eval_ds, config, mesh, grid_path))
  return results


def train_and_evaluate(config, workdir: str) -> dict[str, float]:
  """Trains `config` in `workdir` (resuming if it holds a checkpoint); returns the last eval.

  Raises `Preempted` after saving when SIGTERM or SIGINT arrives (main exits EXIT_PREEMPTED).
  """
  config_check.validate(config)
  profile = parse_profile_steps(config.profile_steps)
  parallel.check_batch_size(config.batch_size)
  runs.check_writable(workdir)
  runs.check_resume(workdir, config)
  train_ds = sources.load_split(config.data, 'train')
  eval_ds = sources.load_split(config.data, 'eval')
  masks.check_fits(config.hole, *train_ds.images.shape[1:3])
  runs.write_run_info(workdir, config, train_ds, eval_ds)
  log = MetricLogger(workdir, enabled=jax.process_index() == 0)
  log.info(f'train: {train_ds.name} ({len(train_ds)} images {train_ds.images.shape[1:]}), '
           f'eval: {eval_ds.name} ({len(eval_ds)}); {jax.device_count()} '
           f'{jax.default_backend()} device(s)')

  mesh = parallel.make_mesh()
  task = runs.make_task(config)
  if task.check_data is not None:
    task.check_data(train_ds)
    task.check_data(eval_ds)
  data_sharding = parallel.batch_sharding(mesh)
  step_batch = config.batch_size * task.batch_multiple
  order = pipeline.EpochOrder(len(train_ds), config.seed)
  example = pipeline.to_global(
      pipeline.batch_at(train_ds, order, 0, step_batch, jax.process_index(),
                        jax.process_count()), data_sharding)
  state = runs.create_state(task, config, example, mesh)
  n_params = sum(x.size for x in jax.tree.leaves(state.params))
  log.info(f'{config.task} task: {n_params:,} parameters' + (
      f', moving average of the weights (decay {config.ema_decay})' if config.ema_decay else '')
      + (f', {config.compute_dtype} compute' if config.compute_dtype != 'float32' else ''))

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
  tracing = False
  window_start = time.time()
  try:
    with Stop() as stop:
      for step in range(start_step, config.num_steps):
        if profile and profile[0] <= step < profile[1] and not tracing:
          jax.profiler.start_trace(os.path.join(workdir, 'profile'))
          tracing = True
        state, metrics = train_step(state, next(batches), jax.random.fold_in(train_key, step))
        metrics = jax.device_get(metrics)
        if not all(math.isfinite(float(v)) for v in metrics.values()):
          raise NonFiniteLossError(
              f'Non-finite training metrics at step {step}: {metrics}. The last good '
              f'checkpoint is step {last_saved} in {ckpt.directory}; lower the learning rate '
              'or add optim.grad_clip and rerun with the same --workdir to resume from it.')
        for k, v in metrics.items():
          window.setdefault(k, []).append(float(v))
        done = step + 1
        progress.update(1)
        if tracing and done >= profile[1]:
          jax.block_until_ready(state)
          jax.profiler.stop_trace()
          tracing = False
          log.info(f'profile of steps {profile[0]}..{profile[1] - 1} written to '
                   f'{os.path.join(workdir, "profile")} (tensorboard --logdir there)')
        if done % config.log_every == 0 or done == config.num_steps:
          # Means over this logging window only; the window is reset after every write.
          means = {f'train/{k}': float(np.mean(v)) for k, v in window.items()}
          means['train/steps_per_sec'] = len(window['loss']) / (time.time() - window_start)
          window, window_start = {}, time.time()
          log.scalars(done, means)
          progress.set_postfix(loss=f'{means["train/loss"]:.4g}')
        if done % config.eval_every == 0 or done == config.num_steps:
          eval_metrics = evaluate_in_training(
              task, state, eval_ds, config, mesh,
              grid_path=os.path.join(workdir, 'grids', f'step_{done:07d}.png'))
          log.scalars(done, {f'eval/{k}': v for k, v in eval_metrics.items()})
        if done % config.checkpoint_every == 0 or done == config.num_steps:
          ckpt.save(done, state)
          last_saved = done
        if stop.requested():
          if last_saved != done:
            ckpt.save(done, state, force=True)
          ckpt.wait()
          preempted = Preempted(done, stop.received or 'another process')
          log.info(str(preempted))
          raise preempted
  finally:
    # Whatever stops the loop (end, NaN, a signal, a crash), saves already started reach disk
    # and the prefetch thread is stopped before the interpreter can exit.
    if tracing:
      jax.profiler.stop_trace()
    batches.close()
    progress.close()
    ckpt.close()
    log.close()
  return eval_metrics
