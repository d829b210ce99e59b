"""Autoregressive models: causality by gradients, the masks, and bits/dim."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inpaintjax import losses, models
from inpaintjax.models import pixelcnn


def _order(r, c, ch, width, colours=3):
  return (r * width + c) * colours + ch


@pytest.mark.parametrize('residual', [False, True])
def test_pixelcnn_logits_depend_only_on_earlier_subpixels(residual):
  """Gradient of the logits of every sub-pixel: zero for it and all later, non-zero before."""
  # ELU, not ReLU: a dead unit would zero a gradient that causality allows.
  model = models.build({'name': 'pixelcnn', 'features': 6, 'layers': 2, 'residual': residual,
                        'act': 'elu'})
  h = w = 4
  x = jax.random.uniform(jax.random.PRNGKey(0), (1, h, w, 3))
  params = model.init(jax.random.PRNGKey(1), x)
  proj = jax.random.normal(jax.random.PRNGKey(2), (256,))

  # One Jacobian of every sub-pixel's (projected) logits against every input sub-pixel.
  scores = lambda z: jnp.einsum('hwck,k->hwc', model.apply(params, z)[0], proj)
  jac = np.abs(np.asarray(jax.jit(jax.jacrev(scores))(x)))[:, :, :, 0]  # (h, w, 3, h, w, 3)
  for r in range(h):
    for c in range(w):
      for ch in range(3):
        g = jac[r, c, ch]
        target = _order(r, c, ch, w)
        later = np.zeros_like(g, bool)
        for rr in range(h):
          for cc in range(w):
            for k in range(3):
              later[rr, cc, k] = _order(rr, cc, k, w) >= target
        assert np.all(g[later] == 0.0), (r, c, ch)
        if target > 0:
          assert np.any(g[~later] > 0), (r, c, ch)


def test_masks_follow_the_colour_order():
  a = pixelcnn.causal_mask(3, 3, 6, 3, 'A')
  b = pixelcnn.causal_mask(3, 3, 6, 3, 'B')
  # Centre position: output groups (R R G G B B) from inputs (R G B).
  np.testing.assert_array_equal(a[1, 1], [[0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 1, 1],
                                          [0, 0, 0, 0, 0, 0]])
  np.testing.assert_array_equal(b[1, 1], [[1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1],
                                          [0, 0, 0, 0, 1, 1]])
  assert a[2].sum() == 0 and a[1, 2].sum() == 0 and a[0].min() == 1
  with pytest.raises(ValueError, match='mask_type'):
    pixelcnn.causal_mask(3, 3, 6, 3, 'C')


def test_bits_per_dim_of_uniform_logits_is_exactly_eight():
  images = jnp.asarray(np.random.default_rng(0).integers(0, 256, (2, 4, 4, 3)), jnp.uint8)
  logits = jnp.zeros((2, 4, 4, 3, 256))
  np.testing.assert_allclose(losses.bits_per_dim(logits, images), 8.0, rtol=1e-6)
  np.testing.assert_allclose(losses.bits_per_dim(logits, images, per_example=True), [8.0, 8.0],
                             rtol=1e-6)
