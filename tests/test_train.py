"""The trainer: one step learns, resume is exact, sharding doesn't change the loss, NaN stops."""

import json
import os

import chex
import jax
import numpy as np
import pytest

from inpaintjax import checkpoint, parallel, runs, tasks, train
from inpaintjax.data import masks, pipeline, sources
from inpaintjax.tasks import ema
from tests.conftest import load


def fixed_batch(config, size=None):
  ds = sources.load_split(config.data, 'train')
  batch = pipeline.batch_at(ds, pipeline.EpochOrder(len(ds), 0), 0, size or config.batch_size)
  h, w = batch['image'].shape[1:3]
  batch['mask'] = np.asarray(masks.make_masks(config.hole, jax.random.PRNGKey(0),
                                              len(batch['image']), h, w))
  return batch


@pytest.mark.parametrize('name', ['patch_cnn.py:smoke', 'unet.py:smoke'])
def test_one_step_lowers_the_loss(name):
  config = load(name)
  mesh = parallel.make_mesh()
  task = tasks.make(config)
  batch = fixed_batch(config)
  state = runs.create_state(task, config, {'image': batch['image']}, mesh)
  eval_step = jax.jit(task.eval_step)
  before = float(np.mean(eval_step(state, batch)['loss']))
  step = train.jit_train_step(task, mesh)
  state, metrics = step(state, {'image': batch['image']}, jax.random.PRNGKey(1))
  after = float(np.mean(eval_step(state, batch)['loss']))
  assert np.isfinite(float(metrics['loss']))
  assert after < before
  assert int(state.step) == 1


def test_one_device_and_four_devices_give_the_same_loss():
  config = load('patch_cnn.py:smoke', **{'model.dense_dropout': 0.0})
  task = tasks.make(config)
  batch = {'image': fixed_batch(config)['image']}
  losses = []
  assert jax.device_count() == 4
  for devices in (jax.devices()[:1], jax.devices()):
    mesh = parallel.make_mesh(devices)
    state = runs.create_state(task, config, batch, mesh)
    step = train.jit_train_step(task, mesh)
    for i in range(2):
      state, metrics = step(state, batch, jax.random.PRNGKey(i))
    losses.append(float(metrics['loss']))
  np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)


def final_params(workdir):
  _, _, state = runs.read_run(workdir)
  return jax.device_get(state.params)


class Interrupted(Exception):
  pass


def test_resume_is_exact(tmp_path, monkeypatch):
  """N steps + crash + restart for N more = 2N steps straight, parameter for parameter."""
  config = load('patch_cnn.py:smoke', num_steps=6, checkpoint_every=3, eval_every=6,
                log_every=3)
  train.train_and_evaluate(config, str(tmp_path / 'straight'))

  real_jit = train.jit_train_step

  def crashing_jit(task, mesh):
    step_fn = real_jit(task, mesh)

    def step(state, batch, key):
      if int(state.step) == 4:  # Crash after step 4: the last checkpoint is step 3.
        raise Interrupted()
      return step_fn(state, batch, key)
    return step

  resumed = str(tmp_path / 'resumed')
  monkeypatch.setattr(train, 'jit_train_step', crashing_jit)
  with pytest.raises(Interrupted):
    train.train_and_evaluate(config, resumed)
  assert checkpoint.Checkpointer(resumed).latest_step() == 3
  monkeypatch.setattr(train, 'jit_train_step', real_jit)
  train.train_and_evaluate(config, resumed)
  chex.assert_trees_all_equal(final_params(str(tmp_path / 'straight')), final_params(resumed))
  log = open(os.path.join(resumed, 'log.txt')).read()
  assert 'Resumed from step 3' in log


def test_run_folder_has_logs_grid_and_dataset_record(tmp_path):
  config = load('unet.py:smoke')
  metrics = train.train_and_evaluate(config, str(tmp_path))
  for name in ('hole_psnr', 'ssim', 'ssim_seed', 'rgb_dist', 'maem', 'loss'):
    assert np.isfinite(metrics[name]), name
  assert metrics['num_images'] == config.data.eval_limit
  info = json.load(open(tmp_path / 'data.json'))
  assert info['train'] == 'embedded:train' and info['image_shape'] == [32, 32, 3]
  assert os.listdir(tmp_path / 'grids') == ['step_0000004.png']
  assert os.listdir(tmp_path / 'tensorboard')
  lines = [json.loads(x) for x in open(tmp_path / 'metrics.jsonl')]
  assert [x['step'] for x in lines if 'train/loss' in x] == [2, 4]


def test_nan_loss_stops_with_step_and_checkpoint(tmp_path):
  config = load('patch_cnn.py:smoke', num_steps=6, checkpoint_every=2, eval_every=100)
  config.optim.learning_rate = 1e30
  config.signed = True
  with pytest.raises(train.NonFiniteLossError, match=r'step \d+.*last good checkpoint'):
    train.train_and_evaluate(config, str(tmp_path))


def test_batch_size_must_split_over_devices(tmp_path):
  config = load('patch_cnn.py:smoke', batch_size=6)
  with pytest.raises(ValueError, match='not divisible by the 4 devices'):
    train.train_and_evaluate(config, str(tmp_path))


def test_init_from_copies_a_runs_trained_weights_but_not_its_optimizer(tmp_path):
  source = str(tmp_path / 'source')
  train.train_and_evaluate(load('unet.py:smoke', num_steps=2), source)
  trained = final_params(source)
  config = load('unet.py:smoke', init_from=source)
  task = tasks.make(config)
  fresh = runs.create_state(task, config, {'image': fixed_batch(config)['image']},
                             parallel.make_mesh())
  warm, message = train.warm_start(task, fresh, source)
  chex.assert_trees_all_equal(jax.device_get(warm.params), trained)
  assert int(warm.step) == 0 and 'from ' + source in message
  chex.assert_trees_all_equal(jax.device_get(warm.opt_state), jax.device_get(fresh.opt_state))
  other = load('context_encoder.py:smoke')  # A GAN state: nothing in it is named alike.
  other_task = tasks.make(other)
  other_state = runs.create_state(other_task, other, {'image': fixed_batch(other)['image']},
                                   parallel.make_mesh())
  with pytest.raises(ValueError, match='no parameter of that run matches'):
    train.warm_start(other_task, other_state, source)


def test_init_from_with_a_moving_average_trains_on_its_own_buffers(tmp_path):
  # The average starts at the copied weights; sharing their buffers, the donated train step
  # would donate one buffer twice (XLA refuses, then the process dies).
  source = str(tmp_path / 'source')
  train.train_and_evaluate(load('unet.py:smoke', num_steps=2), source)
  config = load('unet.py:smoke', init_from=source, ema_decay=0.5, num_steps=2)
  task = runs.make_task(config)
  fresh = runs.create_state(task, config, {'image': fixed_batch(config)['image']},
                             parallel.make_mesh())
  warm, _ = train.warm_start(task, fresh, source)
  pointers = [leaf.addressable_shards[0].data.unsafe_buffer_pointer()  # One device's copy.
              for leaf in jax.tree_util.tree_leaves(warm)
              if isinstance(leaf, jax.Array) and leaf.size > 1]  # (Scalars may share a constant.)
  assert len(pointers) == len(set(pointers))
  chex.assert_trees_all_equal(jax.device_get(warm.ema),
                              jax.device_get(ema.trained_leaves(warm.inner)))
  train.train_and_evaluate(config, str(tmp_path / 'warm'))
  assert checkpoint.Checkpointer(str(tmp_path / 'warm'), read_only=True).latest_step() == 2
