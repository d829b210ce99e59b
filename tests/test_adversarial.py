"""The context encoders' critic loop, losses and labels, on tiny models and 8×8 images."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from inpaintjax import models, runs, tasks
from inpaintjax.tasks import adversarial
from inpaintjax.tasks.regression import reconstruction_loss
from tests.conftest import load

TINY = {'hole': 'center-4', 'overlap': 0, 'model.stages': 1, 'critic.depth': 1, 'augment.hue': 0.0,
        'augment.saturation': 0.0, 'augment.contrast': 0.0}


def _tiny(variant, **overrides):
  return load(f'context_encoder.py:{variant}', **{**TINY, **overrides})


def _batch(n, seed=0):
  rng = np.random.default_rng(seed)
  return {'image': jnp.asarray(rng.integers(0, 256, (n, 8, 8, 3)), jnp.uint8)}


def _count(opt_state):
  """Adam's update counter in an optimizer state."""
  adam = [s for s in jax.tree.leaves(opt_state, is_leaf=lambda s: isinstance(
      s, optax.ScaleByAdamState)) if isinstance(s, optax.ScaleByAdamState)]
  return int(adam[0].count)


@pytest.fixture(scope='module')
def wgan_run():
  """A WGAN (clipping) task with 3 critic updates, its state, and the info of one critic loop."""
  config = _tiny('wgan_smoke', **{'adversary.n_critic': 3, 'overlap': 1, 'critic_optim.name': 'adam',
                                  'critic_optim.learning_rate': 0.05})
  task = tasks.make(config)
  state = jax.jit(task.init)(jax.random.PRNGKey(0), _batch(8 * 4))
  xs = jnp.asarray(np.random.default_rng(1).uniform(-1, 1, (3, 8, 8, 8, 3)), jnp.float32)
  keys = jax.random.split(jax.random.PRNGKey(2), 3)
  after, info = jax.jit(task.parts['critic_loop'])(state, xs, keys)
  return config, task, state, after, info


def test_critic_loop_updates_the_critic_n_times_and_never_the_generator(wgan_run):
  config, _, before, after, info = wgan_run
  chex.assert_shape(info['critic_loss'], (3,))
  assert _count(after.critic.opt_state) - _count(before.critic.opt_state) == 3
  chex.assert_trees_all_equal(after.gen.params, before.gen.params)
  chex.assert_trees_all_equal(after.gen.opt_state, before.gen.opt_state)
  assert not all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(after.critic.params),
                                                       jax.tree.leaves(before.critic.params)))
  assert config.adversary.n_critic == 3


def test_each_critic_update_sees_its_own_batch_and_key(wgan_run):
  *_, info = wgan_run
  assert len(set(np.asarray(info['real_mean']).round(6).tolist())) == 3
  assert len(set(np.asarray(info['key_data']).tolist())) == 3


def test_every_critic_weight_is_clipped_after_every_update(wgan_run):
  config, _, _, after, info = wgan_run
  c = config.adversary.clip
  # A large learning rate pushes weights past the bound; clipping must bring each update back.
  assert np.all(np.asarray(info['critic_max_abs_weight']) <= c + 1e-7)
  assert max(float(jnp.max(jnp.abs(w))) for w in jax.tree.leaves(after.critic.params)) <= c


def test_train_step_is_n_critic_critic_updates_and_one_generator_update():
  config = _tiny('wgan_gp_smoke', **{'adversary.n_critic': 2})
  task = tasks.make(config)
  assert task.batch_multiple == 3
  batch = _batch(8 * 3)
  state = jax.jit(task.init)(jax.random.PRNGKey(0), batch)
  new, metrics = jax.jit(task.train_step)(state, batch, jax.random.PRNGKey(1))
  assert _count(new.critic.opt_state) - _count(state.critic.opt_state) == 2
  assert _count(new.gen.opt_state) - _count(state.gen.opt_state) == 1
  assert int(new.step) == int(state.step) + 1
  for k in ('loss', 'reconstruction', 'adversarial', 'critic_loss'):
    assert np.isfinite(float(metrics[k])), k


def test_gradient_penalty_equals_a_direct_computation():
  critic = models.build({'name': 'discriminator', 'kind': 'dcgan', 'channels': 2, 'depth': 1,
                         'batch_norm': False})
  real = jax.random.uniform(jax.random.PRNGKey(0), (3, 4, 4, 3))
  fake = jax.random.uniform(jax.random.PRNGKey(1), (3, 4, 4, 3))
  params = critic.init(jax.random.PRNGKey(2), real)
  score = lambda x: critic.apply(params, x)
  key = jax.random.PRNGKey(3)
  got = adversarial.gradient_penalty(score, real, fake, key)
  eps = jax.random.uniform(key, (3, 1, 1, 1))
  direct = []
  for i in range(3):
    x_hat = eps[i] * real[i] + (1 - eps[i]) * fake[i]
    g = jax.grad(lambda z: score(z[None])[0])(x_hat)
    direct.append((jnp.sqrt(jnp.sum(g ** 2)) - 1.0) ** 2)
  np.testing.assert_allclose(got, np.mean(direct), rtol=1e-4)
  # A linear critic f(x) = Σ w·x has gradient w everywhere: the penalty is (‖w‖ − 1)².
  w = jnp.full((4, 4, 3), 0.5)
  linear = lambda x: jnp.sum(x * w, axis=(1, 2, 3))
  np.testing.assert_allclose(adversarial.gradient_penalty(linear, real, fake, key),
                             (jnp.sqrt(jnp.sum(w ** 2)) - 1) ** 2, rtol=1e-5)


def test_soft_noisy_labels_lie_in_their_ranges_and_flip_at_the_set_rate():
  n, p = 20000, 0.1
  real = adversarial.noisy_labels(jax.random.PRNGKey(0), n, True, flip_prob=p)
  fake = adversarial.noisy_labels(jax.random.PRNGKey(1), n, False, flip_prob=p)
  for labels, own, other in ((real, (0.9, 1.1), (0.0, 0.2)), (fake, (0.0, 0.2), (0.9, 1.1))):
    labels = np.asarray(labels)
    in_own = (labels >= own[0]) & (labels <= own[1])
    in_other = (labels >= other[0]) & (labels <= other[1])
    assert np.all(in_own | in_other)
    assert abs(in_other.mean() - p) < 0.01
  hard = adversarial.noisy_labels(jax.random.PRNGKey(2), 100, True, soft=False)
  np.testing.assert_array_equal(hard, np.ones(100))


def test_overlap_ring_has_the_set_weight_and_the_hole_weight_one():
  x = jnp.zeros((1, 32, 32, 1))
  mask = jnp.zeros((1, 32, 32, 1)).at[:, 12:20, 12:20].set(1.0)
  out = jnp.zeros((1, 16, 16, 1))  # An 8×8 hole plus a 4-pixel ring: the overlap patch.

  def loss_with_error_at(r, c):
    return float(reconstruction_loss(out, x.at[0, r, c, 0].set(1.0), mask, 1.0, 10.0))

  ring, inside, outside = loss_with_error_at(9, 9), loss_with_error_at(15, 15), loss_with_error_at(
      2, 2)
  total = 10.0 * (16 * 16 - 8 * 8) + 1.0 * 8 * 8
  np.testing.assert_allclose([ring, inside, outside], [10.0 / total, 1.0 / total, 0.0],
                             rtol=1e-6)


@pytest.mark.parametrize('variant,overrides', [
    ('smoke', {}), ('smoke', {'overlap': 1}), ('dcgan_smoke', {}),
    ('dcgan_smoke', {'adversary.separate_batches': False, 'adversary.soft_labels': False,
                     'adversary.non_saturating': False, 'adversary.on': 'image'}),
    ('wgan_smoke', {}), ('wgan_gp_smoke', {'overlap': 1}), ('l2_residual_smoke', {}),
    ('residual_wgan_gp_smoke', {'overlap': 1})])
def test_one_step_of_each_configuration_gives_finite_losses(variant, overrides):
  config = _tiny(variant, **{'adversary.n_critic': 1, **overrides})
  task = tasks.make(config)
  batch = _batch(8 * task.batch_multiple)
  state = jax.jit(task.init)(jax.random.PRNGKey(0), batch)
  _, metrics = jax.jit(task.train_step)(state, batch, jax.random.PRNGKey(1))
  assert all(np.isfinite(float(v)) for v in metrics.values()), metrics
  if variant not in ('smoke', 'l2_residual_smoke'):
    assert 'critic_loss' in metrics


def test_unknown_adversary_is_an_error():
  with pytest.raises(ValueError, match='adversary.kind'):
    tasks.make(_tiny('smoke', **{'adversary.kind': 'vae'}))


@pytest.mark.parametrize('backbone', ['plain', 'vgg', 'resnet', 'inception'])
@pytest.mark.parametrize('downsample,bottleneck', [('pool', 'dense'), ('stride', 'conv')])
def test_every_backbone_builds_the_generator_and_the_critic(backbone, downsample, bottleneck):
  gen = models.build({'name': 'context_encoder', 'backbone': backbone, 'channels': 8,
                      'stages': 3, 'downsample': downsample, 'bottleneck': bottleneck,
                      'bottleneck_units': 32}, out_channels=3, patch_size=16)
  x = jnp.zeros((2, 32, 32, 4))
  shapes = jax.eval_shape(lambda: gen.init_with_output(jax.random.PRNGKey(0), x)[0])
  assert shapes.shape == (2, 16, 16, 3)
  critic = models.build({'name': 'discriminator', 'kind': backbone, 'channels': 8, 'depth': 2})
  scores = jax.eval_shape(lambda: critic.init_with_output(jax.random.PRNGKey(0), x)[0])
  assert scores.shape == (2,)


def _small_generator(patch_size, **fields):
  """A context encoder of width 8 for RGB patches of `patch_size`, with `fields` set."""
  return models.build({'name': 'context_encoder', 'channels': 8, 'bottleneck_units': 16,
                       **fields}, out_channels=3, patch_size=patch_size)


def test_decoder_convs_deepen_the_decoder_and_keep_the_patch_shape():
  x = jnp.zeros((2, 32, 32, 4))

  def conv_kernels(decoder_convs):
    gen = _small_generator(16, decoder_convs=decoder_convs)
    out, variables = jax.eval_shape(lambda: gen.init_with_output(jax.random.PRNGKey(0), x))
    assert out.shape == (2, 16, 16, 3)
    return sum(p.ndim == 4 for p in jax.tree.leaves(variables['params']))

  # A 16×16 patch is two upsamplings from 4×4: two extra convolutions after each.
  assert conv_kernels(2) - conv_kernels(0) == 4


def test_zero_init_output_starts_a_residual_generator_at_its_fill():
  x = jax.random.normal(jax.random.PRNGKey(1), (2, 32, 32, 4))
  outs = []
  for zero in (True, False):
    gen = _small_generator(8, output='linear', zero_init_output=zero)
    outs.append(gen.init_with_output(jax.random.PRNGKey(0), x)[0])
  np.testing.assert_array_equal(outs[0], np.zeros((2, 8, 8, 3)))
  assert np.abs(outs[1]).max() > 0


def test_context_window_makes_the_patch_depend_on_the_window_only():
  gen = _small_generator(8, output='linear', context=16, batch_norm=False)
  x = jax.random.normal(jax.random.PRNGKey(1), (2, 32, 32, 4))
  variables = gen.init(jax.random.PRNGKey(0), x)
  outside = x.at[:, :8].set(5.0).at[:, :, 24:].set(-5.0)  # Changes outside the central 16×16.
  inside = x.at[:, 12:20, 12:20].set(5.0)
  base = gen.apply(variables, x)
  assert base.shape == (2, 8, 8, 3)
  np.testing.assert_array_equal(gen.apply(variables, outside), base)
  assert np.abs(gen.apply(variables, inside) - base).max() > 0
  with pytest.raises(ValueError, match='needs a patch output'):
    _small_generator(0, context=16).init(jax.random.PRNGKey(0), x)
  with pytest.raises(ValueError, match='context 40 is larger'):
    _small_generator(8, context=40).init(jax.random.PRNGKey(0), x)


@pytest.mark.parametrize('variant,patch', [('l2_residual', 8), ('residual_wgan', 16)])
def test_residual_configs_build_on_cifar_sized_images(variant, patch):
  config = load(f'context_encoder.py:{variant}')
  assert config.model.context == 16 and config.model.zero_init_output
  gen = models.build(config.model, out_channels=3, patch_size=8 + 2 * config.overlap)
  x = jnp.zeros((2, 32, 32, 4))  # RGB and the mask channel.
  out = jax.eval_shape(lambda: gen.init_with_output(jax.random.PRNGKey(0), x)[0])
  assert out.shape == (2, patch, patch, 3)


def test_the_trainer_runs_resumes_and_evaluates_a_wgan(tmp_path):
  from inpaintjax import evaluate, train
  workdir = str(tmp_path / 'wgan')
  config = load('context_encoder.py:wgan_gp_smoke', **{'adversary.n_critic': 2, 'num_steps': 2})
  train.train_and_evaluate(config, workdir)
  config = load('context_encoder.py:wgan_gp_smoke', **{'adversary.n_critic': 2})
  metrics = train.train_and_evaluate(config, workdir)  # Resumes at step 2, runs to 4.
  assert np.isfinite(metrics['hole_psnr']) and 'sharpness' in metrics
  _, _, state = runs.read_run(workdir)
  assert int(state.step) == 4
  means = evaluate.run(workdir=workdir, limit=8, out=str(tmp_path / 'eval'))
  assert means['num_images'] == 8 and np.isfinite(means['sharpness'])
  # init_from: a fresh GAN takes the run's generator and nothing of its critic.
  task = tasks.make(config)
  fresh = jax.jit(task.init)(jax.random.PRNGKey(5),
                             {'image': jnp.zeros((8 * task.batch_multiple, 32, 32, 3), jnp.uint8)})
  warm, _ = train.warm_start(task, fresh, workdir)
  chex.assert_trees_all_equal(jax.device_get(warm.gen.params), jax.device_get(state.gen.params))
  chex.assert_trees_all_equal(warm.critic.params, fresh.critic.params)
  assert int(warm.step) == 0
