"""Random augmentation inside the jitted step, through dm_pix: flips, small rotation and zoom.

Runs on device on a float batch, one key per image, so it costs no host time and
is a pure function of the step's key (resume-exact).
"""

from __future__ import annotations

import dm_pix as pix
import jax
import jax.numpy as jnp


def rotate_zoom(image: jnp.ndarray, angle: jnp.ndarray, scale: jnp.ndarray) -> jnp.ndarray:
  """Rotates an HWC image by `angle` radians and zooms by `scale` about its centre."""
  height, width = image.shape[:2]
  centre = jnp.array([(height - 1) / 2, (width - 1) / 2, 0.0])
  cos, sin = jnp.cos(angle) / scale, jnp.sin(angle) / scale
  # affine_transform maps output coordinates to input ones: in = M @ out + offset.
  matrix = jnp.array([[cos, -sin, 0.0], [sin, cos, 0.0], [0.0, 0.0, 1.0]])
  offset = centre - matrix @ centre
  return pix.affine_transform(image, matrix, offset=offset, order=1, mode='nearest')


def augment(key: jax.Array, images: jnp.ndarray, flip: bool = False, rotate_deg: float = 0.0,
            zoom: float = 0.0) -> jnp.ndarray:
  """Random left-right flip, rotation in ±rotate_deg and zoom in [1, 1+zoom], per image."""
  if not (flip or rotate_deg or zoom):
    return images

  def one(k, image):
    k_flip, k_angle, k_zoom = jax.random.split(k, 3)
    if flip:
      image = pix.random_flip_left_right(k_flip, image)
    if rotate_deg or zoom:
      angle = jnp.deg2rad(rotate_deg) * jax.random.uniform(k_angle, minval=-1.0, maxval=1.0)
      scale = 1.0 + zoom * jax.random.uniform(k_zoom)
      image = rotate_zoom(image, angle, scale)
    return image

  return jax.vmap(one)(jax.random.split(key, images.shape[0]), images)
