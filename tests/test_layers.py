"""The shape-lowered layers of models/layers.py equal Flax's: values, gradients, parameters.

The convolution shapes are collected from the configs' own models (every `Conv` and
`ConvTranspose` call their full-size init makes), so the equality is checked at exactly the
shapes that training uses, with the matmul lowering forced (and, for the transposed
convolution, with the automatic choice, which mixes its phases with `lax` convolutions).
"""

import dataclasses
import os

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inpaintjax import config_base, tasks
from inpaintjax.data import masks
from inpaintjax.models import layers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = ['configs/patch_cnn.py', 'configs/patch_cnn.py:strong', 'configs/unet.py',
           'configs/unet.py:best', 'configs/unet.py:mnist', 'configs/correcting_ae.py:conv',
           'configs/correcting_ae.py:conv_orient', 'configs/classifier.py',
           'configs/context_encoder.py:l2', 'configs/context_encoder.py:l2_residual',
           'configs/context_encoder.py:dcgan', 'configs/context_encoder.py:wgan_gp',
           'configs/pixelcnn.py:conditional']
_FLAX = {layers.Conv: nn.Conv, layers.ConvTranspose: nn.ConvTranspose}


def conv_calls(config_path):
  """{(layer class, its fields, input shape)} of every convolution the config's init makes."""
  config = config_base.load_config(os.path.join(ROOT, config_path))
  task = tasks.make(config)
  n = config.batch_size * task.batch_multiple
  shape = (n, config.data.image_size, config.data.image_size, config.data.channels or 3)
  batch = {'image': jnp.zeros(shape, jnp.uint8), 'label': jnp.zeros(n, jnp.int32)}
  seen = set()

  def record(next_fun, args, kwargs, context):
    module = context.module
    if type(module) in _FLAX and context.method_name == '__call__':
      fields = tuple((f.name, getattr(module, f.name)) for f in dataclasses.fields(module)
                     if f.name not in ('parent', 'name', 'conv_general_dilated', 'kernel_init',
                                       'bias_init', 'lowering'))
      seen.add((type(module), fields, (2,) + tuple(args[0].shape[1:])))
    return next_fun(*args, **kwargs)

  with nn.intercept_methods(record):
    jax.eval_shape(lambda: task.init(jax.random.PRNGKey(0), batch))
  return seen


def check_equal(cls, fields, shape, lowering):
  """The layer with `lowering` against Flax's own on random input: output, input and parameter
  gradients, parameter shapes."""
  ours, theirs = cls(lowering=lowering, **dict(fields)), _FLAX[cls](**dict(fields))
  x = jax.random.normal(jax.random.PRNGKey(1), shape)
  params = theirs.init(jax.random.PRNGKey(2), x)
  chex.assert_trees_all_equal_shapes(params, ours.init(jax.random.PRNGKey(2), x))

  def loss(module):
    return lambda p, x: jnp.sum(jnp.sin(module.apply(p, x)))

  g = jax.grad(loss(ours), argnums=(0, 1))(params, x)
  g_ref = jax.grad(loss(theirs), argnums=(0, 1))(params, x)
  # Float32 sums in another order: errors scale with each array's largest entry.
  for a, b in zip(jax.tree.leaves((ours.apply(params, x), g)),
                  jax.tree.leaves((theirs.apply(params, x), g_ref))):
    chex.assert_equal_shape((a, b))
    np.testing.assert_allclose(a, b, rtol=0, atol=2e-5 * max(1.0, float(jnp.max(jnp.abs(b)))))


@pytest.mark.parametrize('config_path', CONFIGS)
def test_conv_layers_equal_flax_at_the_configs_shapes(config_path):
  calls = conv_calls(config_path)
  assert calls, f'{config_path} makes no convolution'
  for cls, fields, shape in sorted(calls, key=repr):
    check_equal(cls, fields, shape, 'matmul')
    if cls is layers.ConvTranspose:  # 'auto' mixes phases with lax convolutions on CPU.
      check_equal(cls, fields, shape, 'auto')


@pytest.mark.parametrize('fields,shape', [
    (dict(features=5, kernel_size=(3, 3), strides=(2, 2)), (2, 5, 7, 3)),    # odd, stride 2
    (dict(features=5, kernel_size=(3, 3), kernel_dilation=(2, 2)), (2, 6, 6, 3)),
    (dict(features=5, kernel_size=(7, 7), padding=((1, 2), (0, 3))), (2, 6, 5, 3)),
    (dict(features=5, kernel_size=(3, 3)), (2, 1, 1, 4)),                     # taps dropped
    (dict(features=5, kernel_size=(4, 4), padding='VALID'), (2, 4, 4, 3)),    # a dense layer
])
def test_conv_equals_flax_at_other_shapes(fields, shape):
  check_equal(layers.Conv, fields, shape, 'matmul')


@pytest.mark.parametrize('fields,shape', [
    (dict(features=5, kernel_size=(2, 2), strides=(2, 2)), (2, 3, 3, 4)),     # depth-to-space
    (dict(features=5, kernel_size=(2, 2), strides=(2, 2), padding='VALID'), (2, 3, 3, 4)),
    (dict(features=5, kernel_size=(3, 3), strides=(2, 2)), (2, 3, 4, 4)),     # dilated input
    (dict(features=5, kernel_size=(4, 4), strides=(2, 2), padding='VALID'), (2, 2, 2, 4)),
    (dict(features=5, kernel_size=(3, 3), padding=((1, 0), (2, 1))), (2, 4, 4, 4)),
    (dict(features=5, kernel_size=(5, 3), strides=(3, 2)), (2, 4, 5, 4)),     # uneven phases
    (dict(features=5, kernel_size=(1, 1), strides=(2, 2)), (2, 3, 3, 4)),     # tapless phases
    (dict(features=5, kernel_size=(3, 3), strides=(2, 2), padding=((2, 0), (0, 1))),
     (2, 3, 4, 4)),
])
def test_conv_transpose_equals_flax_at_other_shapes(fields, shape):
  check_equal(layers.ConvTranspose, fields, shape, 'matmul')
  # 'lax' is the accelerators' path: the convolution of the stride-dilated input.
  check_equal(layers.ConvTranspose, fields, shape, 'lax')


def test_parameter_names_are_flax_names():
  """Checkpoints written with nn.Conv / nn.ConvTranspose load into the new layers."""

  class Net(nn.Module):
    conv: type
    up: type

    @nn.compact
    def __call__(self, x):
      return self.up(3, (2, 2), strides=(2, 2))(self.conv(4, (3, 3))(self.conv(4, (3, 3))(x)))

  x = jnp.zeros((1, 4, 4, 2))
  ours = Net(layers.Conv, layers.ConvTranspose).init(jax.random.PRNGKey(0), x)
  theirs = Net(nn.Conv, nn.ConvTranspose).init(jax.random.PRNGKey(0), x)
  assert jax.tree_util.tree_structure(ours) == jax.tree_util.tree_structure(theirs)
  chex.assert_trees_all_equal(ours, theirs)  # Same names, shapes and initial values.


def test_lowering_choice():
  assert layers.prefers_matmul(4, 256, backend='cpu')       # 2×2 map
  assert layers.prefers_matmul(1024, 3, backend='cpu')      # RGB input
  assert layers.prefers_matmul(1024, 60, 1, backend='cpu')  # 1×1 kernel: a matmul already
  assert not layers.prefers_matmul(256, 32, backend='cpu')  # 16×16, 32 channels: lax is faster
  assert not layers.prefers_matmul(4, 256, backend='gpu')
  assert not layers.prefers_matmul(4, 3, 1, backend='tpu')
  with pytest.raises(ValueError, match='Unknown convolution lowering'):
    layers.make_conv_general_dilated('fast')


@pytest.mark.parametrize('shape,window', [((2, 8, 8, 3), 2), ((2, 32, 32, 2), 3),
                                          ((1, 5, 7, 4), 2)])
def test_max_pool_equals_flax(shape, window):
  x = jax.random.normal(jax.random.PRNGKey(0), shape)
  ref = lambda x: nn.max_pool(x, (window, window), strides=(window, window))
  f = lambda x: layers.max_pool(x, window)
  chex.assert_trees_all_equal(f(x), ref(x))
  loss = lambda pool: lambda x: jnp.sum(jnp.sin(pool(x)))
  chex.assert_trees_all_close(jax.grad(loss(f))(x), jax.grad(loss(ref))(x))


@pytest.mark.parametrize('height,width,size', [(32, 32, 8), (28, 28, 8), (9, 7, 3),
                                               (16, 16, 12)])
def test_harmonic_operator_equals_the_iterations(height, width, size):
  """A centre hole from make_masks (a host array) takes the precomputed linear map; a traced
  mask the Jacobi loop; they agree to float32 rounding, in a jitted function too."""
  x = jax.random.uniform(jax.random.PRNGKey(0), (3, height, width, 2))
  mask = masks.make_masks(f'center-{size}', jax.random.PRNGKey(1), 3, height, width)
  assert isinstance(mask, np.ndarray)
  fast = jax.jit(lambda x: masks.harmonic_fill(x, mask))(x)
  loop = jax.jit(masks.harmonic_fill)(x, jnp.asarray(mask))
  chex.assert_trees_all_close(fast, loop, atol=1e-6)
  chex.assert_trees_all_equal(fast * (1 - mask), x * (1 - mask))  # Known pixels kept.
  assert float(jnp.std(fast[:, mask[0, :, :, 0] > 0])) > 0  # The hole is filled, not constant.
