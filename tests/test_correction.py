"""Correcting autoencoders, the evaluation classifier and the classifier test, on smoke configs."""

import json
import os

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inpaintjax import classifier_test, config_base, evaluate, losses, models, sweep, tasks, train
from inpaintjax.data import sources
from tests.conftest import load


def _batch(n=8, size=28, seed=0):
  ds = sources.embedded('train', size, 1, 64)
  return {'image': jnp.asarray(ds.images[seed:seed + n]),
          'label': jnp.asarray(ds.labels[seed:seed + n])}


@pytest.mark.parametrize('variant,loss', [('smoke', 'bce'), ('smoke', 'mse'),
                                          ('conv_smoke', 'bce'), ('conv_smoke', 'mse')])
def test_a_training_step_lowers_the_loss(variant, loss):
  config = load(f'correcting_ae.py:{variant}', **{'loss.kind': loss,
                                                   'optim.learning_rate': 3e-3})
  task = tasks.make(config)
  batch = _batch()
  state = jax.jit(task.init)(jax.random.PRNGKey(0), batch)
  step = jax.jit(task.train_step)
  key = jax.random.PRNGKey(1)  # The same damage every step: the loss on it must fall.
  first = None
  for _ in range(5):
    state, metrics = step(state, batch, key)
    first = first if first is not None else float(metrics['loss'])
  assert np.isfinite(first) and float(metrics['loss']) < first
  out = task.predict(state, batch['image'].astype(jnp.float32) / 255)
  chex.assert_shape(out, batch['image'].shape)
  assert float(out.min()) >= 0 and float(out.max()) <= 1


@pytest.mark.parametrize('kind,target', [('l1', 'weights'), ('l2', 'biases'),
                                         ('l2', 'activations')])
def test_regularisers_add_a_positive_penalty(kind, target):
  plain = load('correcting_ae.py:smoke')
  reg = load('correcting_ae.py:smoke', **{'reg.kind': kind, 'reg.target': target,
                                          'reg.strength': 1.0})
  batch = _batch()
  key = jax.random.PRNGKey(2)
  state = tasks.make(plain).init(key, batch)
  if target == 'biases':  # Flax initialises biases to zero; make the penalty visible.
    state = state.replace(params=jax.tree.map(lambda x: x + 0.1, state.params))
  _, m_plain = tasks.make(plain).train_step(state, batch, key)
  _, m_reg = tasks.make(reg).train_step(state, batch, key)
  np.testing.assert_allclose(m_reg['reconstruction'], m_plain['reconstruction'], rtol=1e-5)
  assert float(m_reg['loss']) > float(m_plain['loss']) + 1e-3


def test_penalties_match_their_formulas():
  params = {'Dense_0': {'kernel': jnp.array([[1.0, -2.0]]), 'bias': jnp.array([3.0, -4.0])}}
  assert float(losses.parameter_penalty(params, 'l1', 'weights')) == 3.0
  assert float(losses.parameter_penalty(params, 'l2', 'biases')) == 25.0
  assert float(losses.activity_penalty(jnp.array([[1.0, 1.0], [3.0, 0.0]]), 'l1')) == 2.5
  with pytest.raises(ValueError, match='penalty target'):
    losses.parameter_penalty(params, 'l1', 'gammas')


def test_binary_cross_entropy_matches_the_formula():
  logits = jnp.array([[-2.0, 0.0, 3.0]])
  target = jnp.array([[0.0, 0.5, 1.0]])
  p = jax.nn.sigmoid(logits)
  expected = -jnp.mean(target * jnp.log(p) + (1 - target) * jnp.log(1 - p))
  np.testing.assert_allclose(losses.binary_cross_entropy(logits, target), expected, rtol=1e-5)


def test_autoencoder_shapes_and_the_sources_final_model():
  x = jnp.zeros((2, 28, 28, 1))
  dense = models.build({'name': 'dense_autoencoder', 'layers': 3, 'width': 512,
                        'bottleneck': 64, 'mirror': False}, out_channels=1)
  params = dense.init(jax.random.PRNGKey(0), x)['params']
  widths = [params[k]['kernel'].shape for k in sorted(params, key=lambda k: (k != 'bottleneck', k))]
  assert (784, 512) in widths and (512, 512) in widths and (512, 256) in widths
  assert params['bottleneck']['kernel'].shape == (256, 64) and params['Dense_3']['kernel'].shape == (
      64, 784)
  for size, channels in ((28, 1), (32, 3)):
    conv = models.build({'name': 'conv_autoencoder', 'layers': 3, 'width': 4, 'bottleneck': 8},
                        out_channels=channels)
    y, _ = conv.init_with_output(jax.random.PRNGKey(0), jnp.zeros((2, size, size, channels)))
    chex.assert_shape(y, (2, size, size, channels))
  with pytest.raises(ValueError, match='divisible by 4'):
    conv.init(jax.random.PRNGKey(0), jnp.zeros((1, 30, 30, 1)))


def test_conv_autoencoder_skips_carry_the_input_past_the_code():
  x = jax.random.uniform(jax.random.PRNGKey(1), (2, 28, 28, 1))
  for skips in (False, True):
    conv = models.build({'name': 'conv_autoencoder', 'layers': 3, 'width': 4, 'bottleneck': 8,
                         'skips': skips}, out_channels=1)
    params = conv.init(jax.random.PRNGKey(0), x)['params']
    # A dead code: only the skips can make the output depend on the input.
    params = {**params, 'bottleneck': jax.tree.map(jnp.zeros_like, params['bottleneck'])}
    y = conv.apply({'params': params}, x)
    chex.assert_shape(y, x.shape)
    varies = float(jnp.max(jnp.abs(y[0] - y[1])))
    assert (varies > 1e-4) if skips else (varies == 0.0), (skips, varies)
  with pytest.raises(ValueError, match='mirror'):
    models.build({'name': 'conv_autoencoder', 'skips': True, 'mirror': False},
                 out_channels=1).init(jax.random.PRNGKey(0), x)


def test_unknown_distortion_mode_and_loss_are_errors():
  with pytest.raises(ValueError, match="mode must be one of.*'some'"):
    tasks.make(load('correcting_ae.py:smoke', **{'distort.mode': 'some'}))
  with pytest.raises(ValueError, match='correction loss'):
    tasks.make(load('correcting_ae.py:smoke', **{'loss.kind': 'hinge'}))


def test_classifier_refuses_unlabelled_or_out_of_range_data():
  task = tasks.make(load('classifier.py:smoke'))
  images = np.zeros((4, 28, 28, 1), np.uint8)
  with pytest.raises(ValueError, match='needs labels'):
    task.check_data(sources.Dataset(images, None, 'x'))
  with pytest.raises(ValueError, match='num_classes is 10'):
    task.check_data(sources.Dataset(images, np.array([0, 1, 2, 12]), 'x'))


@pytest.fixture(scope='module')
def trained_pair(tmp_path_factory):
  """A smoke classifier and a smoke corrector judged by it, trained by the one trainer."""
  root = tmp_path_factory.mktemp('pair')
  cls_dir, ae_dir = str(root / 'classifier'), str(root / 'corrector')
  cls_metrics = train.train_and_evaluate(load('classifier.py:smoke'), cls_dir)
  ae_metrics = train.train_and_evaluate(load('correcting_ae.py:smoke', judge=cls_dir), ae_dir)
  return cls_dir, ae_dir, cls_metrics, ae_metrics


def test_trainer_runs_the_classifier_and_the_judged_corrector(trained_pair):
  _, ae_dir, cls_metrics, ae_metrics = trained_pair
  assert 0.0 <= cls_metrics['accuracy'] <= 1.0 and np.isfinite(cls_metrics['loss'])
  for k in ('loss', 'mse', 'mse_damaged', 'accuracy_clean', 'accuracy_multiple',
            'accuracy_corrected_multiple'):
    assert k in ae_metrics and np.isfinite(ae_metrics[k]), k
  assert os.path.exists(os.path.join(ae_dir, 'grids', 'step_0000004_judge.png'))


def test_classifier_report_has_every_accuracy_and_files(trained_pair, tmp_path, capsys):
  cls_dir, ae_dir, _, _ = trained_pair
  out = str(tmp_path / 'report')
  rep = evaluate.run(workdir=ae_dir, classifier=cls_dir, out=out, limit=20)
  assert set(rep['accuracy']) == {'clean', 'single', 'multiple', 'corrected_clean',
                                  'corrected_single', 'corrected_multiple'}
  assert rep['num_images'] == 20
  assert all(0 <= a <= 1 for a in rep['accuracy'].values())
  counts = np.asarray(rep['confusion']['clean'])
  assert counts.sum() == 20 and len(rep['per_class']['multiple']) == counts.shape[0]
  assert {'classifier_test.json', 'confusion.png', 'grid.png'} <= set(os.listdir(out))
  saved = json.load(open(os.path.join(out, 'classifier_test.json')))
  assert saved['accuracy'] == rep['accuracy']
  assert '| clean | single | multiple |' in capsys.readouterr().out
  alone = evaluate.run(workdir=cls_dir, out=str(tmp_path / 'alone'), limit=20)
  assert set(alone['accuracy']) == {'clean', 'single', 'multiple'}
  assert alone['accuracy']['clean'] == rep['accuracy']['clean']  # Same images, same judge.
  with pytest.raises(ValueError, match='not a classifier'):
    evaluate.run(workdir=ae_dir, classifier=ae_dir)


def test_damage_is_the_same_for_every_corrector():
  images = sources.embedded('test', 28, 1, 16).images.astype(np.float32) / 255
  a = classifier_test.distort_images(images, None, 'multiple', seed=3)
  b = classifier_test.distort_images(images[:5], None, 'multiple', seed=3)
  np.testing.assert_array_equal(a[:5], b)
  assert not np.array_equal(a, classifier_test.distort_images(images, None, 'single', 3))


def test_sweep_grid_covers_model_layers_bottleneck_and_loss():
  members = sweep.load_sweep(os.path.join(os.path.dirname(__file__), '..', 'configs',
                                          'correcting_ae.py'), 'grid')
  assert len(members) == 2 * 3 * 3 * 2
  assert {m['model.name'] for m in members} == {'dense_autoencoder', 'conv_autoencoder'}
  for m in (members[0], members[-1]):
    c = config_base.apply_overrides(load('correcting_ae.py:smoke'), m)
    # Every member builds (traced only, not compiled).
    jax.eval_shape(tasks.make(c).init, jax.random.PRNGKey(0), _batch())
