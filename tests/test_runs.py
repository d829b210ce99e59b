"""The run store and what the trainer does with it: damaged checkpoints, another config's run,
an unwritable workdir, the moving average of the weights, the profiler switch."""

import errno
import glob
import json
import os
import shutil

import chex
import jax
import numpy as np
import pytest

from inpaintjax import checkpoint, config_base, parallel, runs, train
from inpaintjax.errors import ConfigError, RunError
from inpaintjax.tasks import ema
from tests.conftest import load

SHORT = dict(num_steps=6, checkpoint_every=2, eval_every=6, log_every=2, keep_checkpoints=5)


def smoke(**overrides):
  return load('patch_cnn.py:smoke', **{**SHORT, **overrides})


def params_of(workdir, weights=''):
  return jax.device_get(runs.read_run(workdir, weights=weights)[2].params)


def damage(workdir, step):
  """Overwrites every file of a checkpoint with random bytes of the same length."""
  rng = np.random.default_rng(step)
  for path in glob.glob(os.path.join(workdir, 'checkpoints', str(step), '**'), recursive=True):
    if os.path.isfile(path):
      size = max(os.path.getsize(path), 16)
      with open(path, 'wb') as f:
        f.write(rng.integers(0, 256, size, dtype=np.uint8).tobytes())


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
  """A finished 6-step run with checkpoints at 2, 4, 6 (copied by each test that changes it)."""
  workdir = str(tmp_path_factory.mktemp('runs') / 'base')
  train.train_and_evaluate(smoke(), workdir)
  return workdir


def copy_of(trained, tmp_path):
  target = str(tmp_path / 'run')
  shutil.copytree(trained, target)
  return target


def test_damaged_newest_checkpoint_is_moved_aside_and_the_previous_one_restored(
    trained, tmp_path, caplog):
  workdir = copy_of(trained, tmp_path)
  damage(workdir, 6)
  # Reading the run skips the damaged step but leaves it where it is.
  _, _, state = runs.read_run(workdir)
  assert int(state.step) == 4
  assert os.path.isdir(os.path.join(workdir, 'checkpoints', '6'))
  # Resuming says so, moves it aside and trains from step 4 to the same end as the straight run.
  with caplog.at_level('ERROR'):
    train.train_and_evaluate(smoke(), workdir)
  said = caplog.text
  assert 'CHECKPOINT 6' in said and 'Restored step 4 instead of the damaged step 6' in said
  assert os.path.isdir(os.path.join(workdir, 'damaged_checkpoints', '6'))
  assert 'Resumed from step 4' in open(os.path.join(workdir, 'log.txt')).read()
  chex.assert_trees_all_equal(params_of(trained), params_of(workdir))


def test_every_checkpoint_damaged_is_one_clear_error_and_nothing_moved(trained, tmp_path):
  workdir = copy_of(trained, tmp_path)
  for step in (2, 4, 6):
    damage(workdir, step)
  with pytest.raises(RunError, match='No checkpoint in .* can be restored.*step 6.*step 4'):
    train.train_and_evaluate(smoke(), workdir)
  assert sorted(os.listdir(os.path.join(workdir, 'checkpoints'))) == ['2', '4', '6']


def test_a_half_written_checkpoint_is_never_taken_for_a_finished_one(trained, tmp_path):
  workdir = copy_of(trained, tmp_path)
  # What a kill during orbax's save leaves: the step's temporary folder, unfinished.
  half = os.path.join(workdir, 'checkpoints', '8.orbax-checkpoint-tmp-1234')
  shutil.copytree(os.path.join(workdir, 'checkpoints', '6'), half)
  assert checkpoint.Checkpointer(workdir, read_only=True).latest_step() == 6
  train.train_and_evaluate(smoke(num_steps=8), workdir)
  assert not os.path.exists(half)
  assert checkpoint.Checkpointer(workdir).latest_step() == 8


def test_another_configs_run_is_refused_naming_the_fields(trained, tmp_path):
  workdir = copy_of(trained, tmp_path)
  with pytest.raises(RunError, match=r"another config.*model.channels: 4 → 8"):
    train.train_and_evaluate(smoke(**{'model.channels': 8}), workdir)
  # Inference-only fields: refused unless allowed; loop fields (num_steps) change freely.
  with pytest.raises(RunError, match='eval_seed: 0 → 3.*allow_config_change'):
    train.train_and_evaluate(smoke(eval_seed=3), workdir)
  train.train_and_evaluate(smoke(eval_seed=3, allow_config_change=True, num_steps=8), workdir)
  assert runs.read_config(workdir).eval_seed == 3


def test_a_diffusion_runs_sampler_is_an_inference_setting(tmp_path):
  from configs import diffusion  # pylint: disable=g-import-not-at-top
  saved = diffusion.get_config('smoke')
  (tmp_path / 'checkpoints' / '4').mkdir(parents=True)
  (tmp_path / runs.CONFIG_FILE).write_text(saved.to_json_best_effort())
  changed = diffusion.get_config('smoke')
  changed.diffusion.sampler = 'ddpm'
  with pytest.raises(RunError, match="diffusion.sampler: 'ddim' → 'ddpm'.*allow_config_change"):
    runs.check_resume(str(tmp_path), changed)
  changed.allow_config_change = True
  runs.check_resume(str(tmp_path), changed)
  # A run saved before diffusion.temperature existed sampled at 1: today's default is no change.
  older = json.loads(saved.to_json_best_effort())
  del older['diffusion']['temperature']
  assert runs.config_changes(older, diffusion.get_config('smoke')) == {}
  assert config_base.with_defaults(older)['diffusion']['temperature'] == 1.0  # Read as 1.
  hotter = diffusion.get_config('smoke')
  hotter.diffusion.temperature = 0.5
  assert runs.config_changes(older, hotter) == {'diffusion.temperature': (1.0, 0.5)}
  changed.diffusion.timesteps = 20  # The forward process is what was trained: never.
  with pytest.raises(RunError, match='another config'):
    runs.check_resume(str(tmp_path), changed)


def test_changes_name_every_field_and_ignore_the_loop_ones():
  saved = json.loads(smoke().to_json_best_effort())
  changed = smoke(**{'num_steps': 99, 'optim.learning_rate': 0.5, 'flip_average': True})
  assert runs.config_changes(saved, changed) == {
      'flip_average': (False, True), 'optim.learning_rate': (saved['optim']['learning_rate'],
                                                             0.5)}


def test_unwritable_workdir_is_one_clear_error(tmp_path):
  blocker = tmp_path / 'a_file'
  blocker.write_text('not a folder')
  with pytest.raises(RunError, match='cannot be written'):
    train.train_and_evaluate(smoke(), str(blocker / 'run'))


def test_a_checkpoint_of_a_different_model_is_refused_and_kept(trained, tmp_path):
  workdir = copy_of(trained, tmp_path)
  config = smoke(**{'model.dense_width': 24})
  os.remove(os.path.join(workdir, 'config.json'))  # No saved config to catch it first.
  with pytest.raises(RunError, match='can be restored'):
    train.train_and_evaluate(config, workdir)
  assert sorted(os.listdir(os.path.join(workdir, 'checkpoints'))) == ['2', '4', '6']


def test_ema_equals_the_direct_average_and_evaluation_uses_it():
  config = smoke(ema_decay=0.5)
  task, plain = runs.make_tasks(config)
  mesh = parallel.make_mesh()
  images = np.asarray(jax.random.randint(jax.random.PRNGKey(0), (8, 32, 32, 3), 0, 256),
                      np.uint8)
  state = runs.create_state(task, config, {'image': images}, mesh)
  step = jax.jit(task.train_step)
  average = [np.asarray(x) for x in ema.trained_leaves(state.inner)]
  for i in range(3):
    state, _ = step(state, {'image': images}, jax.random.PRNGKey(i))
    d = min(0.5, (1 + (i + 1)) / (10 + (i + 1)))
    average = [d * a + (1 - d) * np.asarray(w)
               for a, w in zip(average, ema.trained_leaves(state.inner))]
  for got, want in zip(state.ema, average):
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6, atol=1e-7)
  # The averaged state differs from the raw one, and the wrapped task's inference uses it.
  averaged = ema.weights(state, 'ema')
  assert not np.allclose(jax.tree.leaves(averaged.params)[0],
                         jax.tree.leaves(state.inner.params)[0])
  mask = np.zeros((8, 32, 32, 1), np.float32)
  mask[:, 12:20, 12:20] = 1
  x = images / 255.0
  np.testing.assert_array_equal(task.inpaint(state, x, mask, None),
                                plain.inpaint(averaged, x, mask, None))


def test_ema_resume_is_exact_and_weights_choose_raw_or_average(tmp_path, monkeypatch):
  config = smoke(ema_decay=0.9)
  straight = str(tmp_path / 'straight')
  train.train_and_evaluate(config, straight)
  resumed = str(tmp_path / 'resumed')
  train.train_and_evaluate(smoke(ema_decay=0.9, num_steps=3), resumed)  # Stops after step 3...
  train.train_and_evaluate(config, resumed)  # ...then resumes from checkpoint 3 to step 6.
  for weights in ('ema', 'raw'):
    chex.assert_trees_all_equal(params_of(straight, weights), params_of(resumed, weights))
  chex.assert_trees_all_equal(params_of(straight), params_of(straight, 'ema'))
  assert not np.allclose(jax.tree.leaves(params_of(straight, 'ema'))[0],
                         jax.tree.leaves(params_of(straight, 'raw'))[0])
  with pytest.raises(ValueError, match='keeps no moving average'):
    plain = str(tmp_path / 'plain')
    train.train_and_evaluate(smoke(num_steps=2), plain)
    runs.read_run(plain, weights='ema')


def test_profile_steps_write_a_trace(tmp_path):
  train.train_and_evaluate(smoke(num_steps=4, profile_steps='1:3'), str(tmp_path))
  traces = glob.glob(str(tmp_path / 'profile' / '**' / '*.xplane.pb'), recursive=True)
  assert traces and os.path.getsize(traces[0]) > 0
  with pytest.raises(ConfigError, match='profile_steps'):
    train.train_and_evaluate(smoke(profile_steps='5'), str(tmp_path / 'bad'))


def test_evaluate_and_inpaint_take_the_weights_and_list_evaluations(tmp_path):
  from inpaintjax import evaluate, inpaint  # pylint: disable=g-import-not-at-top
  workdir = str(tmp_path / 'run')
  train.train_and_evaluate(smoke(ema_decay=0.9, num_steps=4), workdir)
  average = evaluate.run(workdir=workdir, limit=8)
  raw = evaluate.run(workdir=workdir, limit=8, weights='raw')
  assert average['hole_mse'] != raw['hole_mse']
  files = [e['file'] for e in runs.list_evaluations(workdir)]
  assert files == ['eval_center-4_embedded_test_first-8.json',
                   'eval_center-4_embedded_test_raw_first-8.json']
  assert runs.list_evaluations(workdir)[1]['method'] == 'run (raw weights)'
  assert evaluate.main(['--workdir', str(tmp_path / 'none'), '--weights=ema']) == 2
  image = np.asarray(jax.random.randint(jax.random.PRNGKey(0), (32, 32, 3), 0, 256), np.uint8)
  part = np.zeros((32, 32), bool)
  part[14:18, 14:18] = True
  fills = [inpaint.ModelFiller(workdir, weights=w).fill(image, part, 14, 14)
           for w in ('', 'ema', 'raw')]
  np.testing.assert_array_equal(fills[0], fills[1])
  assert np.any(fills[0] != fills[2])


def test_a_full_disk_is_one_clear_error(tmp_path, monkeypatch):

  def full(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

  monkeypatch.setattr(runs.os, 'replace', full)
  with pytest.raises(RunError, match='No space left on device.*disk full'):
    train.train_and_evaluate(smoke(), str(tmp_path / 'run'))
  monkeypatch.undo()
  ckpt = checkpoint.Checkpointer(str(tmp_path / 'ckpt'))
  monkeypatch.setattr(ckpt.manager, 'save', full)
  with pytest.raises(RunError, match='Cannot save checkpoint 1.*No space left'):
    ckpt.save(1, {'x': np.zeros(3)})
