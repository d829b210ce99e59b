"""Random augmentation inside the jitted step, through dm_pix: flips, shifts, small rotation and
zoom, and (for the context encoders) small hue, saturation and contrast changes and Gaussian blur.

Images are in [0, 1]; colour changes are clipped back into that range.

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


def shift(key: jax.Array, image: jnp.ndarray, max_shift: int) -> jnp.ndarray:
  """Translates an HWC image by up to ±max_shift pixels each way (mirror padding, random crop)."""
  pad = ((max_shift, max_shift), (max_shift, max_shift), (0, 0))
  return pix.random_crop(key, jnp.pad(image, pad, mode='reflect'), image.shape)


def augment(key: jax.Array, images: jnp.ndarray, flip: bool = False, rotate_deg: float = 0.0,
            zoom: float = 0.0, hue: float = 0.0, saturation: float = 0.0, contrast: float = 0.0,
            blur_sigma: float = 0.0, shift_px: int = 0) -> jnp.ndarray:
  """Random augmentation of [0, 1] NHWC images, one key per image; zero settings are off.

  flip: left-right flip with probability 1/2; rotate_deg: rotation in ±rotate_deg; zoom: scale
  in [1, 1+zoom]; hue: shift in ±hue of the colour wheel; saturation, contrast: factor in
  [1-s, 1+s]; blur_sigma: Gaussian blur with σ uniform in [0, blur_sigma] pixels; shift_px:
  translation by up to ±shift_px pixels each way (a centre hole then sees off-centre content:
  more distinct training examples for a model that looks only at the middle of the image).
  """
  if not 0 <= shift_px < min(images.shape[1:3]):
    raise ValueError(f'augment shift_px must be in [0, {min(images.shape[1:3])}), got {shift_px}.')
  if not (flip or rotate_deg or zoom or hue or saturation or contrast or blur_sigma or shift_px):
    return images
  colour = images.shape[-1] == 3

  def one(k, image):
    k_flip, k_angle, k_zoom, k_hue, k_sat, k_con, k_blur, k_shift = jax.random.split(k, 8)
    if flip:
      image = pix.random_flip_left_right(k_flip, image)
    if shift_px:
      image = shift(k_shift, image, shift_px)
    if rotate_deg or zoom:
      angle = jnp.deg2rad(rotate_deg) * jax.random.uniform(k_angle, minval=-1.0, maxval=1.0)
      scale = 1.0 + zoom * jax.random.uniform(k_zoom)
      image = rotate_zoom(image, angle, scale)
    if hue and colour:
      image = pix.random_hue(k_hue, image, hue)
    if saturation and colour:
      image = pix.random_saturation(k_sat, image, 1.0 - saturation, 1.0 + saturation)
    if contrast:
      image = pix.random_contrast(k_con, image, 1.0 - contrast, 1.0 + contrast)
    if blur_sigma:
      # A tiny floor keeps the kernel finite when σ is drawn near 0 (then it is the identity).
      sigma = jnp.maximum(blur_sigma * jax.random.uniform(k_blur), 1e-3)
      image = pix.gaussian_blur(image, sigma, kernel_size=5)
    return jnp.clip(image, 0.0, 1.0) if (hue or saturation or contrast) else image

  return jax.vmap(one)(jax.random.split(key, images.shape[0]), images)
