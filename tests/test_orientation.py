"""The learned canonicaliser: the D4 transforms, their inverses, the head, and its loss."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inpaintjax import models, tasks
from inpaintjax.data import distortions
from inpaintjax.models import orientation
from inpaintjax.models.orientation import Canonicaliser
from tests.conftest import load
from tests.test_correction import _batch

X = jnp.arange(2 * 5 * 5 * 2, dtype=jnp.float32).reshape(2, 5, 5, 2)


def test_the_eight_transforms_are_distinct_and_each_inverse_undoes_its_transform():
  images = [np.asarray(orientation.transform(X, k)) for k in range(8)]
  for i in range(8):
    np.testing.assert_array_equal(orientation.inverse(jnp.asarray(images[i]), i), X)
    for j in range(i):
      assert not np.array_equal(images[i], images[j]), (i, j)


def test_dihedral_index_names_the_transform_the_distorter_applied():
  ops = [distortions.vertical_flip, distortions.horizontal_flip,
         lambda y: distortions.rotate90(y, 1), lambda y: distortions.rotate90(y, 2),
         lambda y: distortions.rotate90(y, 3)]
  for op, fn in enumerate(ops):
    k = int(orientation.dihedral_index(jnp.asarray(op)))
    np.testing.assert_array_equal(orientation.transform(X, k)[0], fn(X[0]))
  assert int(orientation.dihedral_index(jnp.asarray(-1))) == 0  # No distortion: identity.


@pytest.mark.parametrize('k', [0, 1, 4, 6])
def test_a_confident_head_returns_the_inverse_of_its_choice(k):
  module = Canonicaliser(width=4)
  params = module.init(jax.random.PRNGKey(0), X)['params']
  head = sorted(n for n in params if n.startswith('Dense'))[-1]
  # A zero kernel and a large bias on k: the head names k whatever the input.
  params[head] = {'kernel': jnp.zeros_like(params[head]['kernel']),
                  'bias': jnp.zeros(8).at[k].set(50.0)}
  upright, logits = module.apply({'params': params}, orientation.transform(X, k))
  chex.assert_shape(logits, (2, 8))
  np.testing.assert_allclose(upright, X, atol=1e-4)
  with pytest.raises(ValueError, match='square'):
    module.init(jax.random.PRNGKey(0), jnp.zeros((1, 4, 6, 1)))


@pytest.mark.parametrize('variant', ['conv_smoke', 'smoke'])
def test_orientation_loss_trains_the_head_and_evaluation_scores_it(variant):
  config = load(f'correcting_ae.py:{variant}', **{'model.orient': True, 'model.orient_width': 4,
                                                   'loss.orient_weight': 1.0,
                                                   'optim.learning_rate': 3e-3})
  task = tasks.make(config)
  batch = _batch()
  state = jax.jit(task.init)(jax.random.PRNGKey(0), batch)
  step = jax.jit(task.train_step)
  key = jax.random.PRNGKey(1)
  first = None
  for _ in range(8):
    state, metrics = step(state, batch, key)
    first = first if first is not None else float(metrics['orientation'])
  # Eight classes: an untrained head's cross-entropy is near log 8; training on one batch lowers it.
  assert abs(first - np.log(8)) < 0.5 and float(metrics['orientation']) < first
  eval_batch = dict(batch, key=jax.random.split(key, 8))
  acc = task.eval_step(state, eval_batch)['orient_accuracy']
  chex.assert_shape(acc, (8,))
  assert set(np.unique(np.asarray(acc))) <= {0.0, 1.0}
  chex.assert_shape(task.predict(state, batch['image'] / 255.0), batch['image'].shape)


def test_orientation_loss_without_a_canonicaliser_is_an_error():
  with pytest.raises(ValueError, match='model.orient'):
    tasks.make(load('correcting_ae.py:smoke', **{'loss.orient_weight': 1.0}))


def test_the_orient_variants_build_a_canonicaliser():
  for variant in ('conv_orient', 'dense_orient'):
    config = load(f'correcting_ae.py:{variant}')
    assert config.model.orient and config.loss.orient_weight > 0
    model = models.build(config.model, out_channels=1)
    params = model.init(jax.random.PRNGKey(0), jnp.zeros((1, 28, 28, 1)))['params']
    assert 'orient' in params


def test_head_depth_sets_the_convolutions_per_stage():
  for depth in (1, 2):
    params = Canonicaliser(width=4, depth=depth).init(jax.random.PRNGKey(0), X)['params']
    assert sum(n.startswith('Conv') for n in params) == 2 * depth
  with pytest.raises(ValueError, match='depth'):
    Canonicaliser(width=4, depth=0).init(jax.random.PRNGKey(0), X)


def test_trainable_trains_the_named_module_and_freezes_the_rest():
  config = load('correcting_ae.py:conv_smoke', **{
      'model.orient': True, 'model.orient_width': 4, 'model.orient_depth': 2,
      'loss.orient_weight': 1.0, 'optim.trainable': 'orient', 'optim.grad_clip': 1.0})
  task = tasks.make(config)
  batch = _batch()
  before = jax.jit(task.init)(jax.random.PRNGKey(0), batch)
  after, _ = jax.jit(task.train_step)(before, batch, jax.random.PRNGKey(1))
  for name in before.params:
    moved = jax.tree.leaves(jax.tree.map(lambda a, b: bool(jnp.any(a != b)),
                                         before.params[name], after.params[name]))
    # Only the canonicaliser's head learns; every other parameter stays bit for bit.
    assert all(moved) if name == 'orient' else not any(moved), name
  with pytest.raises(ValueError, match='names no module'):
    bad = load('correcting_ae.py:conv_smoke', **{'optim.trainable': 'no_such_module'})
    jax.jit(tasks.make(bad).init)(jax.random.PRNGKey(0), batch)
