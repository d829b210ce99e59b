"""Mixed precision (`config.compute_dtype='bfloat16'`): the models compute in bfloat16, while
parameters, optimizer state, model outputs, losses and metrics stay float32 and the first
losses stay close to float32's."""

from collections.abc import Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inpaintjax import models, tasks
from inpaintjax.data import pipeline, sources
from inpaintjax.models import layers
from inpaintjax.models.masked_conv import MaskedConv
from tests.conftest import load

# One smoke config per model family, so every model (a GAN's generator and critic, the
# canonicaliser) trains once. Gated and conditional PixelCNNs are traced below only.
FAMILIES = {
    'patch_cnn': ('patch_cnn.py:smoke', {}),
    'unet': ('unet.py:smoke', {'model.levels': 1}),
    'classifier': ('classifier.py:smoke', {}),
    'context_encoder:dcgan': ('context_encoder.py:dcgan_smoke', {'model.stages': 1}),
    'dense_autoencoder': ('correcting_ae.py:smoke', {}),
    'conv_autoencoder:orient': ('correcting_ae.py:conv_smoke',
                                {'model.orient': True, 'model.orient_width': 4,
                                 'loss.orient_weight': 1.0}),
    'pixelcnn': ('pixelcnn.py:smoke', {}),
    'row_lstm': ('pixelrnn.py:smoke', {}),
    'diagonal_bilstm': ('pixelrnn.py:diagonal_smoke', {}),
    'flat_lstm': ('pixelrnn.py:flat_smoke', {}),
}
# The first step's loss, bfloat16 against float32 from the same initial state (2026-12, CPU,
# smoke batches): at most 1.7e-4 relative here (the DCGAN context encoder; 1.5e-4 the
# classifier, 1e-4 the U-Net, under 3e-5 the rest; the L2 context encoder, not run here,
# 8.8e-4), and at most 5.2e-4 over the first three steps. 1% leaves a wide margin. A softmax
# left in bfloat16 moves an initial 256-way loss by only ~0.2%: the output dtype checks
# below catch that, not this tolerance.
LOSS_RTOL = 0.01


def _batch(config, task):
  ds = sources.load_split(config.data, 'train')
  n = config.batch_size * task.batch_multiple
  batch = pipeline.batch_at(ds, pipeline.EpochOrder(len(ds), 0), 0, n)
  return {k: v for k, v in batch.items() if k in ('image', 'label')}


class Recorder:
  """A Flax method interceptor: the floating dtypes that top-level model calls return, and
  those that their submodules' `__call__`s return."""

  def __init__(self):
    self.depth, self.top, self.inner = 0, set(), set()

  def __call__(self, next_fun, args, kwargs, context):
    top = self.depth == 0
    self.depth += 1
    try:
      out = next_fun(*args, **kwargs)
    finally:
      self.depth -= 1
    if context.method_name == '__call__':
      # A call with `mutable` returns (output, variables): the output is its first element.
      value = out[0] if top and isinstance(out, tuple) and isinstance(out[-1], Mapping) else out
      (self.top if top else self.inner).update(_floating_dtypes(value))
    return out


def _floating_dtypes(tree) -> set:
  return {str(leaf.dtype) for leaf in jax.tree.leaves(tree)
          if hasattr(leaf, 'dtype') and jnp.issubdtype(leaf.dtype, jnp.floating)}


@pytest.mark.parametrize('family', sorted(FAMILIES))
def test_bfloat16_trains_with_float32_state_and_outputs(family):
  name, overrides = FAMILIES[family]
  task32, task16 = (tasks.make(load(name, compute_dtype=dtype, **overrides))
                    for dtype in ('float32', 'bfloat16'))
  config = load(name, **overrides)
  batch, key, rng = _batch(config, task16), jax.random.PRNGKey(0), jax.random.PRNGKey(1)
  # The initial state does not depend on the computation dtype (the parameters are float32
  # either way): initialised once, it is given the float32 task's model functions (static
  # fields of the state's tree structure), which costs a trace instead of a second compile.
  state16 = jax.jit(task16.init)(key, batch)
  state32 = jax.tree.unflatten(jax.tree.structure(jax.eval_shape(task32.init, key, batch)),
                               jax.tree.leaves(state16))
  # The float32 reference: the first step's metrics only (XLA drops the unused update).
  loss32 = jax.jit(lambda s, b, r: task32.train_step(s, b, r)[1]['loss'])(state32, batch, rng)
  step, recorder = jax.jit(task16.train_step), Recorder()
  with nn.intercept_methods(recorder):  # The first call traces the step: the models run.
    state, first = step(state16, batch, rng)
  state, second = step(state, batch, jax.random.PRNGKey(2))
  for metrics in (first, second):
    assert all(np.isfinite(float(v)) for v in metrics.values()), metrics
  # Parameters, batch statistics, optimizer moments (and a hole fill) are float32.
  assert _floating_dtypes(state) == {'float32'}
  assert recorder.top == {'float32'}, recorder.top       # What the losses see.
  assert 'bfloat16' in recorder.inner, recorder.inner    # What the layers compute in.
  np.testing.assert_allclose(float(first['loss']), float(loss32), rtol=LOSS_RTOL)
  if task16.inpaint is not None:  # Inpainting (the fast sampler's bfloat16 caches) traces.
    images = jnp.asarray(batch['image'][:2], jnp.float32) / 255.0
    mask = jnp.zeros(images.shape[:3] + (1,)).at[:, 4:8, 4:8].set(1.0)
    filled = jax.eval_shape(task16.inpaint, state, images, mask, rng)
    assert filled.dtype == jnp.float32 and filled.shape == images.shape


def _compute_dtypes(jaxpr) -> set:
  """(primitive, operand dtypes, result dtype) of every convolution and matrix product in a
  jaxpr, sub-jaxprs (scan bodies, …) included."""
  found = set()
  for eqn in jaxpr.eqns:
    if eqn.primitive.name in ('conv_general_dilated', 'dot_general'):
      found.add((eqn.primitive.name, tuple(str(v.aval.dtype) for v in eqn.invars),
                 str(eqn.outvars[0].aval.dtype)))
    for param in eqn.params.values():
      for sub in (param if isinstance(param, (tuple, list)) else (param,)):
        if hasattr(sub, 'eqns'):
          found |= _compute_dtypes(sub)
        elif hasattr(sub, 'jaxpr') and hasattr(sub.jaxpr, 'eqns'):
          found |= _compute_dtypes(sub.jaxpr)
  return found


MODEL_CONFIGS = {  # Tiny ones, traced only.
    'classifier': dict(channels=2, dense_width=4),
    'context_encoder': dict(channels=4, stages=2, bottleneck_units=8),
    'context_encoder:conv_bottleneck': dict(name='context_encoder', channels=4, stages=2,
                                            bottleneck='conv', bottleneck_units=8),
    'conv_autoencoder': dict(width=4, bottleneck=8, skips=True, orient=True, orient_width=2),
    'dense_autoencoder': dict(layers=2, width=8, bottleneck=4),
    'diagonal_bilstm': dict(features=6, layers=2),
    'discriminator': dict(channels=4, depth=2),
    'discriminator:resnet': dict(name='discriminator', kind='resnet', channels=4, depth=2),
    'flat_lstm': dict(hidden=8),
    'gated_pixelcnn': dict(features=6, layers=2),
    'patch_cnn': dict(channels=4, dense_width=8),
    'pixelcnn': dict(features=6, layers=2),
    'pixelcnn:conditional': dict(name='pixelcnn', features=6, layers=1, context=4),
    'row_lstm': dict(features=6, layers=2),
    'unet': dict(base_channels=4),
}


@pytest.mark.parametrize('key', sorted(MODEL_CONFIGS))
def test_every_layer_computes_in_bfloat16(key):
  cfg = {'name': key.split(':')[0], **MODEL_CONFIGS[key]}
  model = models.build(cfg, out_channels=3, patch_size=4, dtype=jnp.bfloat16)
  x = jnp.full((2, 16, 16, 3), 0.5)
  extra = {'context': jnp.full((2, 16, 16, 4), 0.5)} if key == 'pixelcnn:conditional' else {}
  variables = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), x, **extra))
  assert _floating_dtypes(variables) == {'float32'}
  apply = lambda v, x: model.apply(v, x, **extra)
  assert jax.eval_shape(apply, variables, x).dtype == jnp.float32
  ops = _compute_dtypes(jax.make_jaxpr(apply)(variables, x).jaxpr)
  assert ops and all(op[1:] == (('bfloat16', 'bfloat16'), 'bfloat16') for op in ops), ops


LAYER_CASES = ([(layer, lowering) for layer in ('conv', 'conv_transpose')
                for lowering in layers.LOWERINGS]
               + [('masked_conv', 'auto')])  # MaskedConv lowers by shape only.


@pytest.mark.parametrize('layer,lowering', LAYER_CASES)
def test_conv_layers_honour_dtype_in_every_lowering(layer, lowering):
  x = jnp.ones((1, 8, 8, 4))
  if layer == 'conv':
    module = layers.Conv(6, (3, 3), lowering=lowering, dtype=jnp.bfloat16)
  elif layer == 'conv_transpose':  # Strided: by phases on CPU ('auto', 'matmul'), else lax.
    module = layers.ConvTranspose(6, (3, 3), strides=(2, 2), lowering=lowering,
                                  dtype=jnp.bfloat16)
  else:
    module = MaskedConv(6, 3, 'B', colours=2, dtype=jnp.bfloat16)
  variables = jax.eval_shape(module.init, jax.random.PRNGKey(0), x)
  assert _floating_dtypes(variables) == {'float32'}
  calls = [lambda v: module.apply(v, x)]
  if layer == 'masked_conv':  # The sampler's single-pixel and single-row paths too.
    calls += [lambda v: module.apply(v, x, point=(2, 3), pad=1),
              lambda v: module.apply(v, x, row=2, pad=1)]
  for call in calls:
    assert jax.eval_shape(call, variables).dtype == jnp.bfloat16
    ops = _compute_dtypes(jax.make_jaxpr(call)(variables).jaxpr)
    assert ops and all(op[1:] == (('bfloat16', 'bfloat16'), 'bfloat16') for op in ops), ops


def test_float32_is_the_default_and_unknown_dtypes_are_named():
  assert models.build({'name': 'unet'}, out_channels=3).dtype == jnp.float32
  assert models.compute_dtype(load('unet.py:smoke')) == jnp.float32
  assert models.compute_dtype(load('unet.py:smoke', compute_dtype='bfloat16')) == jnp.bfloat16
  with pytest.raises(ValueError, match=r"compute_dtype='float16'.*'float32', 'bfloat16'"):
    tasks.make(load('unet.py:smoke', compute_dtype='float16'))
