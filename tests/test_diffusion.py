"""Diffusion inpainters: the forward process, the loss, the samplers and the trainer."""

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from inpaintjax import config_base, diffusion, evaluate, leaderboard, parallel, runs, tasks, train
from inpaintjax.data import masks
from inpaintjax.errors import ConfigError
from tests.conftest import load
from tests.test_train import fixed_batch


@pytest.mark.parametrize('schedule', diffusion.SCHEDULES)
def test_schedule_is_monotone_and_q_sample_matches_its_moments(schedule):
  abar = diffusion.alpha_bars(schedule, 200)
  assert abar.shape == (200,) and np.all(np.diff(abar) < 0)
  assert 0 < abar.min() and abar.max() < 1
  x0 = jnp.full((20_000, 1, 1, 1), 0.6)
  a = abar[120]
  draws = diffusion.q_sample(x0, jnp.full((20_000,), a), jax.random.normal(
      jax.random.PRNGKey(0), x0.shape))
  np.testing.assert_allclose(float(jnp.mean(draws)), np.sqrt(a) * 0.6, atol=0.02)
  np.testing.assert_allclose(float(jnp.var(draws)), 1 - a, rtol=0.03)


@pytest.mark.parametrize('prediction', diffusion.PREDICTIONS)
@pytest.mark.parametrize('repaint', [False, True])
def test_an_oracle_net_lets_ddim_recover_the_image(prediction, repaint):
  """With the true noise (or velocity) predicted, every DDIM step lands on x0's path."""
  abar = diffusion.alpha_bars('cosine', 100)
  grid = diffusion.time_grid(100, 10)
  path = diffusion.repaint_path(10, 3, 2) if repaint else diffusion.plain_path(10)
  x0 = jax.random.uniform(jax.random.PRNGKey(1), (3, 8, 8, 2), minval=-0.9, maxval=0.9)
  mask = jnp.zeros((3, 8, 8, 1)).at[:, 2:6, 1:7].set(1.0)

  def oracle(x_t, t):
    a = jnp.asarray(abar)[t.astype(jnp.int32)][:, None, None, None]
    eps = (x_t - jnp.sqrt(a) * x0) / jnp.sqrt(1 - a)
    return eps if prediction == 'eps' else jnp.sqrt(a) * eps - jnp.sqrt(1 - a) * x0

  keys = jax.random.split(jax.random.PRNGKey(2), 3)
  out = jax.jit(lambda k: diffusion.sample(oracle, x0, mask, k, abar, grid, path, prediction,
                                           eta=0.0, repaint=repaint))(keys)
  np.testing.assert_allclose(out, x0, atol=1e-4)


def test_repaint_path_resamples_each_stretch():
  path = diffusion.repaint_path(6, 2, 3)
  downs = [m for m in path if m[1] < m[0]]
  ups = [m for m in path if m[1] > m[0]]
  assert path[0] == (6, 5) and path[-1] == (1, 0)
  assert len(ups) == 2 * 2 * 2 and len(downs) == 6 + len(ups)  # Jumps at levels 4 and 2.
  assert all(abs(a - b) == 1 for a, b in path)
  assert diffusion.repaint_path(6, 2, 1) == diffusion.plain_path(6)


def test_the_loss_equals_a_direct_computation():
  config = load('diffusion.py:smoke', **{'diffusion.context': 0})
  task = tasks.make(config)
  batch = fixed_batch(config, 4)
  state = task.init(jax.random.PRNGKey(0), {'image': batch['image']})
  x = jnp.asarray(batch['image'], jnp.float32) / 127.5 - 1
  mask, t = jnp.asarray(batch['mask']), jnp.array([0, 7, 30, 49])
  noise = jax.random.normal(jax.random.PRNGKey(3), x.shape)
  got = task.parts['loss_terms'](state.params, x, mask, t, noise, False)
  a = task.parts['alpha_bars'][np.asarray(t)][:, None, None, None]
  x_t = np.sqrt(a) * x + np.sqrt(1 - a) * noise
  # The smoke config's first fill: biharmonic, from the known pixels (the hole's truth hidden).
  assert config.diffusion.first_fill == 'biharmonic'
  hint = masks.biharmonic_fill(jnp.where(mask > 0, 0.0, x), mask)
  inp = np.concatenate([np.where(mask > 0, x_t, x), mask, hint], axis=-1)
  out = task.parts['model'].apply({'params': state.params}, inp, t.astype(jnp.float32))
  v = np.sqrt(a) * noise - np.sqrt(1 - a) * x
  m = np.broadcast_to(mask, x.shape)
  want = np.sum((out - v) ** 2 * m, axis=(1, 2, 3)) / np.sum(m, axis=(1, 2, 3))
  np.testing.assert_allclose(got, want, rtol=1e-4)


@pytest.mark.parametrize('mode', ['conditional', 'repaint'])
def test_samplers_keep_known_pixels_ignore_the_hole_truth_and_follow_their_keys(mode):
  config = load('diffusion.py:smoke', **{'diffusion.mode': mode, 'diffusion.sampler': 'ddpm'})
  task = tasks.make(config)
  batch = fixed_batch(config, 4)
  state = task.init(jax.random.PRNGKey(0), {'image': batch['image']})
  images = jnp.asarray(batch['image'], jnp.float32) / 255.0
  mask = jnp.asarray(batch['mask'])
  fill = jax.jit(task.parts['fill'], static_argnums=4)
  key = jax.random.PRNGKey(5)
  out = fill(state, images, mask, key, 2)
  assert out.shape == (2,) + images.shape
  known = np.broadcast_to(np.asarray(mask) == 0, images.shape)
  for sample in out:
    np.testing.assert_array_equal(np.asarray(sample)[known], np.asarray(images)[known])
  assert not np.allclose(out[0], out[1])  # Two samples per image differ ...
  np.testing.assert_array_equal(fill(state, images, mask, key, 2), out)  # ... reproducibly.
  assert not np.allclose(fill(state, images, mask, jax.random.PRNGKey(6), 2), out)
  # Another truth inside the hole, the same key: the same samples.
  scrambled = jnp.where(mask > 0, 1.0 - images, images)
  np.testing.assert_array_equal(fill(state, scrambled, mask, key, 2), out)
  mean = jax.jit(task.inpaint)(state, images, mask, key)
  assert mean.shape == images.shape


def test_temperature_scales_the_ancestral_noise_only():
  """`diffusion.temperature` changes DDPM's samples (1 is the default chain exactly), keeps the
  known pixels, leaves DDIM (no fresh noise) as it is, and a negative one is refused by name."""
  def samples(sampler, temperature=None):
    fields = {'diffusion.sampler': sampler}
    if temperature is not None:
      fields['diffusion.temperature'] = temperature
    config = load('diffusion.py:smoke', **fields)
    task = tasks.make(config)
    batch = fixed_batch(config, 3)
    state = task.init(jax.random.PRNGKey(0), {'image': batch['image']})
    images = jnp.asarray(batch['image'], jnp.float32) / 255.0
    out = jax.jit(task.parts['fill'], static_argnums=4)(state, images, batch['mask'],
                                                        jax.random.PRNGKey(5), 2)
    known = np.broadcast_to(np.asarray(batch['mask']) == 0, images.shape)
    for sample in out:
      np.testing.assert_array_equal(np.asarray(sample)[known], np.asarray(images)[known])
    return np.asarray(out)

  default = samples('ddpm')
  np.testing.assert_array_equal(samples('ddpm', 1.0), default)  # The field's default is 1.
  cold = samples('ddpm', 0.0)
  assert not np.allclose(cold, default)
  assert not np.allclose(cold[0], cold[1])  # The start noise still differs per sample.
  np.testing.assert_array_equal(samples('ddim', 0.3), samples('ddim', 1.0))
  with pytest.raises(ValueError, match='diffusion.temperature must be ≥ 0'):
    samples('ddpm', -0.5)
  assert runs.sampling_overrides(temperature=0.0) == {'temperature': 0.0}  # 0 is a setting.


def test_trainer_runs_resumes_and_evaluates_the_smoke_model(tmp_path):
  config = load('diffusion.py:smoke',
                **{'optim.learning_rate': 1e-3, 'optim.schedule': 'constant'})
  mesh = parallel.make_mesh()
  task = tasks.make(config)
  batch = fixed_batch(config, 8)
  batch['key'] = np.asarray(jax.random.split(jax.random.PRNGKey(0), 8))
  state = runs.create_state(task, config, {'image': batch['image']}, mesh)
  eval_step = jax.jit(task.eval_step)
  before = float(np.mean(eval_step(state, batch)['loss']))
  state, _ = train.jit_train_step(task, mesh)(state, {'image': batch['image']},
                                             jax.random.PRNGKey(0))
  assert float(np.mean(eval_step(state, batch)['loss'])) < before
  workdir = str(tmp_path / 'run')
  trained = train.train_and_evaluate(config, workdir)
  assert np.isfinite(trained['hole_psnr']) and np.isfinite(trained['loss'])
  # One sample and the K-sample mean are both reported; distinct samples have a spread.
  assert np.isfinite(trained['sample_hole_psnr']) and np.isfinite(trained['sample_sharpness'])
  assert trained['sample_spread'] > 0
  assert trained['sample_mean_hole_psnr'] != trained['sample_hole_psnr']
  grids = sorted(os.listdir(os.path.join(workdir, 'grids')))
  width = Image.open(os.path.join(workdir, 'grids', grids[-1])).size[0]
  assert width == 2 + 7 * (32 * 4 + 2)  # masked, output, composited, 3 samples, truth.
  train.train_and_evaluate(config, workdir)  # Finished: resumes at the last step, no error.
  assert 'Resumed from step 4' in open(os.path.join(workdir, 'log.txt')).read()
  again = evaluate.run(workdir=workdir, batch_size=16)
  np.testing.assert_allclose(again['hole_psnr'], trained['hole_psnr'], rtol=1e-5)
  # --samples=K: the same first sample (keys fold in the sample's index), a K-sample mean.
  more = evaluate.run(workdir=workdir, batch_size=16, samples=4)
  np.testing.assert_allclose(more['sample_hole_psnr'], again['sample_hole_psnr'], rtol=1e-5)
  assert more['sample_mean_hole_psnr'] != again['sample_mean_hole_psnr']
  assert any(f.endswith('_samples-4.json') for f in os.listdir(os.path.join(workdir, 'eval')))
  with pytest.raises(ValueError, match='at least 2'):
    evaluate.run(workdir=workdir, samples=1)
  # --sampler / --sample_steps read the same weights with another chain (set on the config the
  # task is built from); a chain longer than the schedule is refused by name.
  config_read, _, _ = runs.read_run(
      workdir, sampling=runs.sampling_overrides(sampler='ddpm', sample_steps=3))
  assert (config_read.diffusion.sampler, config_read.diffusion.sample_steps) == ('ddpm', 3)
  with pytest.raises(ValueError, match='sample_steps must be in 1..50'):
    evaluate.run(workdir=workdir, sample_steps=51)
  with pytest.raises(ValueError, match='--samples'):
    evaluate.run(baseline='biharmonic', data='embedded', samples=4)
  # The leaderboard shows the sampler's own samples beside its fill.
  out = str(tmp_path / 'board')
  rows = leaderboard.run([workdir], 'biharmonic', out=out, samples=3, batch_size=16)
  assert np.isfinite(rows['run']['sample_mean_hole_psnr'])
  listed = open(os.path.join(out, 'leaderboard.md')).read().splitlines()[-1]
  assert 'run sample 1' in listed and 'run sample 3' in listed


def test_samples_flag_names_runs_it_does_not_apply_to(tmp_path):
  config = load('patch_cnn.py:smoke')
  workdir = str(tmp_path / 'patch')
  train.train_and_evaluate(config, workdir)
  with pytest.raises(ValueError, match='applies to diffusion runs'):
    evaluate.run(workdir=workdir, samples=4)
  with pytest.raises(ValueError, match='--sampler / --sample_steps apply to diffusion runs'):
    evaluate.run(workdir=workdir, sampler='ddpm', sample_steps=10)
  with pytest.raises(ValueError, match='--temperature applies to diffusion runs'):
    evaluate.run(workdir=workdir, temperature=0.5)
  with pytest.raises(ValueError, match='none of --runs'):
    leaderboard.run([workdir], samples=4)


def test_context_run_gives_the_conditional_net_another_runs_fill(unet_smoke_run):
  """With context_run the first guess is that run's fill (not biharmonic's), computed from the
  known pixels only; the repaint prior refuses one."""
  config = load('diffusion.py:smoke', context_run=unet_smoke_run)
  task = runs.make_task(config)
  classical = tasks.make(load('diffusion.py:smoke'))  # The same net, the biharmonic hint.
  batch = fixed_batch(config, 4)
  state = task.init(jax.random.PRNGKey(0), {'image': batch['image']})
  images = jnp.asarray(batch['image'], jnp.float32) / 255.0
  mask = jnp.asarray(batch['mask'])
  key = jax.random.PRNGKey(5)
  out = jax.jit(task.parts['fill'], static_argnums=4)(state, images, mask, key, 1)
  other = jax.jit(classical.parts['fill'], static_argnums=4)(state, images, mask, key, 1)
  assert np.abs(np.asarray(out - other)).max() > 1e-4  # The U-Net's guess is what it reads.
  known = np.broadcast_to(np.asarray(mask) == 0, out.shape)
  np.testing.assert_array_equal(np.asarray(out)[known], np.broadcast_to(images, out.shape)[known])
  scrambled = jnp.where(mask > 0, 1.0 - images, images)
  np.testing.assert_array_equal(
      jax.jit(task.parts['fill'], static_argnums=4)(state, scrambled, mask, key, 1), out)
  state, metrics = jax.jit(task.train_step)(state, {'image': batch['image']},
                                            jax.random.PRNGKey(1))
  assert np.isfinite(float(metrics['loss']))
  with pytest.raises(ValueError, match='repaint'):
    runs.make_task(load('diffusion.py:smoke', context_run=unet_smoke_run,
                        **{'diffusion.mode': 'repaint'}))


def test_the_mixed_variant_runs_on_the_whole_image_and_a_window_refuses_free_form_holes():
  mixed = load('diffusion.py:mixed')
  assert mixed.hole == config_base.MIXED_HOLES and mixed.diffusion.context == 0
  with pytest.raises(ConfigError, match='diffusion.context=0'):
    tasks.make(load('diffusion.py:smoke', hole='center-8,thin'))
  config = load('diffusion.py:smoke', hole='center-8,thin', **{'diffusion.context': 0})
  task = tasks.make(config)
  batch = fixed_batch(config, 4)
  state = task.init(jax.random.PRNGKey(0), {'image': batch['image']})
  state, metrics = jax.jit(task.train_step)(state, {'image': batch['image']},
                                            jax.random.PRNGKey(1))
  assert np.isfinite(float(metrics['loss']))
  images = jnp.asarray(batch['image'], jnp.float32) / 255.0
  mask = masks.make_masks('thin', jax.random.PRNGKey(2), 4, *images.shape[1:3])
  out = np.asarray(jax.jit(task.inpaint)(state, images, mask, jax.random.PRNGKey(3)))
  known = np.broadcast_to(np.asarray(mask) == 0, images.shape)
  np.testing.assert_array_equal(out[known], np.asarray(images)[known])
