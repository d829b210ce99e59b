"""Classical inpainting baselines of the evaluation protocol (host-side numpy).

Each method fills the hole of uint8 NHWC images (C = 1 or 3) and returns uint8 images
with known pixels untouched. A per-image loop: on small images a process pool did not
pay for its start-up and pickling on the 2-core machines we use.
"""

import cv2
import numpy as np
from skimage import restoration

BASELINES = ('ring_mean', 'telea', 'navier_stokes', 'biharmonic')

# PROTOCOL.md: OpenCV methods with inpaintRadius 3.
_CV2_RADIUS = 3
_CV2_FLAGS = {'telea': cv2.INPAINT_TELEA, 'navier_stokes': cv2.INPAINT_NS}
# 8-neighbour dilation defines the ring of known pixels around the hole.
_RING_KERNEL = np.ones((3, 3), np.uint8)


def _ring_mean(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
  """Fills the hole, per channel, with the rounded mean of its one-pixel known ring."""
  ring = cv2.dilate(hole.astype(np.uint8), _RING_KERNEL).astype(bool) & ~hole
  if not ring.any():
    # A hole that covers the image has no ring: fall back to whatever is known.
    ring = ~hole
  fill = image[ring].mean(axis=0) if ring.any() else np.full(image.shape[-1], 127.5)
  out = image.copy()
  out[hole] = np.round(fill).astype(np.uint8)
  return out


def _cv2_inpaint(image: np.ndarray, hole: np.ndarray, flags: int) -> np.ndarray:
  """OpenCV inpainting; cv2 wants a 2-D array for one channel."""
  src = np.ascontiguousarray(image[..., 0] if image.shape[-1] == 1 else image)
  out = cv2.inpaint(src, hole.astype(np.uint8), _CV2_RADIUS, flags)
  return out.reshape(image.shape)


def _biharmonic(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
  """scikit-image biharmonic inpainting on [0, 1] floats, rounded back to uint8."""
  out = restoration.inpaint_biharmonic(image.astype(np.float64) / 255.0, hole,
                                       channel_axis=-1)
  return np.round(np.clip(out, 0.0, 1.0) * 255.0).astype(np.uint8)


def inpaint_baseline(name: str, images_u8: np.ndarray, mask: np.ndarray) -> np.ndarray:
  """Inpaints the hole of each image with a classical method.

  Args:
    name: one of BASELINES.
    images_u8: uint8 (N, H, W, C) images, C = 1 or 3.
    mask: (N, H, W, 1) float or bool, 1 / True = missing.

  Returns:
    uint8 (N, H, W, C) images; known pixels are copied from `images_u8`.

  Raises:
    ValueError: on an unknown name or malformed inputs.
  """
  if name not in BASELINES:
    raise ValueError(f'Unknown baseline {name!r}; valid names: {", ".join(BASELINES)}.')
  images_u8 = np.asarray(images_u8)
  mask = np.asarray(mask)
  if images_u8.dtype != np.uint8 or images_u8.ndim != 4 or images_u8.shape[-1] not in (1, 3):
    raise ValueError('images_u8 must be uint8 (N, H, W, C) with C in (1, 3); got '
                     f'{images_u8.dtype} {images_u8.shape}.')
  if mask.shape != images_u8.shape[:3] + (1,):
    raise ValueError(f'mask shape {mask.shape} does not match images {images_u8.shape}; '
                     'expected (N, H, W, 1).')
  holes = mask[..., 0] > 0.5
  out = np.empty_like(images_u8)
  for i, (image, hole) in enumerate(zip(images_u8, holes)):
    if not hole.any():
      out[i] = image
    elif name == 'ring_mean':
      out[i] = _ring_mean(image, hole)
    elif name == 'biharmonic':
      out[i] = _biharmonic(image, hole)
    else:
      out[i] = _cv2_inpaint(image, hole, _CV2_FLAGS[name])
  # The methods leave known pixels alone already; compositing makes it a guarantee.
  return np.where(holes[..., None], out, images_u8)
