"""A run killed (SIGKILL, also mid-save) or preempted (SIGTERM) and resumed ends bit-identical
to a straight run; SIGTERM saves the step reached and exits with EXIT_PREEMPTED."""

import os
import random
import re
import signal
import subprocess
import sys
import time

import chex
import jax

from inpaintjax import checkpoint, runs, train
from tests.conftest import REPO, load

STEPS = 160
OVERRIDES = dict(num_steps=STEPS, checkpoint_every=20, log_every=20, eval_every=STEPS,
                 keep_checkpoints=3)


def command(workdir):
  return ([sys.executable, '-m', 'inpaintjax.main', f'--config={REPO}/configs/patch_cnn.py:smoke',
           f'--workdir={workdir}'] + [f'--config.{k}={v}' for k, v in OVERRIDES.items()])


def environment():
  # The subprocess compiles through the same persistent cache as the tests, on the same
  # four CPU devices (XLA_FLAGS, set by conftest, is inherited).
  return dict(os.environ, PYTHONPATH=REPO,
              JAX_COMPILATION_CACHE_DIR=jax.config.jax_compilation_cache_dir,
              JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS='0',
              JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES='0')


def steps_on_disk(workdir):
  folder = os.path.join(workdir, 'checkpoints')
  return os.listdir(folder) if os.path.isdir(folder) else []


def run_until(workdir, when, sig, timeout=240):
  """Starts the command, sends `sig` once `when(names in checkpoints/)` holds; returns the
  process's (exit status, output) and whether the signal was sent."""
  proc = subprocess.Popen(command(workdir), env=environment(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
  sent, start = False, time.time()
  while proc.poll() is None and time.time() - start < timeout:
    if not sent and when(steps_on_disk(workdir)):
      proc.send_signal(sig)
      sent = True
    time.sleep(0.001)
  out = proc.communicate(timeout=timeout)[0]
  return proc.returncode, out, sent


def final_params(workdir):
  return jax.device_get(runs.read_run(workdir)[2].params)


def finished_steps(names):
  return sorted(int(n) for n in names if n.isdigit())


def test_sigkill_twice_once_mid_save_and_sigterm_resume_bit_identical(tmp_path):
  straight = str(tmp_path / 'straight')
  train.train_and_evaluate(load('patch_cnn.py:smoke', **OVERRIDES), straight)

  killed = str(tmp_path / 'killed')
  # First kill: while orbax writes a checkpoint (its temporary folder exists).
  rc, out, sent = run_until(killed, lambda names: any('tmp' in n for n in names)
                            and finished_steps(names), signal.SIGKILL)
  assert sent and rc == -signal.SIGKILL, out[-2000:]
  # Second kill: at a random moment after the resumed run passes its next checkpoint.
  first = max(finished_steps(steps_on_disk(killed)))
  wait = random.Random(0).uniform(0.0, 0.2)
  def later(names, deadline=[]):  # pylint: disable=dangerous-default-value
    if not deadline and finished_steps(names) and max(finished_steps(names)) > first:
      deadline.append(time.time() + wait)
    return bool(deadline) and time.time() >= deadline[0]
  rc, out, sent = run_until(killed, later, signal.SIGKILL)
  assert sent and rc == -signal.SIGKILL, out[-2000:]
  rc, out, _ = run_until(killed, lambda names: False, None)
  assert rc == 0, out[-3000:]
  assert not any('tmp' in n for n in steps_on_disk(killed))
  chex.assert_trees_all_equal(final_params(straight), final_params(killed))

  preempted = str(tmp_path / 'preempted')
  rc, out, sent = run_until(preempted, lambda names: finished_steps(names), signal.SIGTERM)
  assert sent and rc == train.EXIT_PREEMPTED, out[-3000:]
  reached = int(re.search(r'preempted at step (\d+) \(SIGTERM\), checkpoint saved', out)[1])
  assert checkpoint.Checkpointer(preempted).latest_step() == reached < STEPS
  rc, out, _ = run_until(preempted, lambda names: False, None)
  assert rc == 0 and f'Resumed from step {reached}' in out, out[-3000:]
  chex.assert_trees_all_equal(final_params(straight), final_params(preempted))
