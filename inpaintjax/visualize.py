"""Image grids as PNG: one row per example, one column per stage (masked, output, truth...)."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image


def to_uint8(images) -> np.ndarray:
  """[0, 1] floats → uint8 on the PROTOCOL's 8-bit grid."""
  return np.round(np.clip(np.asarray(images, np.float32), 0, 1) * 255).astype(np.uint8)


def save_grid(path: str, columns: dict[str, np.ndarray], scale: int = 4, pad: int = 2) -> str:
  """Writes columns of [0, 1] NHWC images side by side, upscaled `scale`× for viewing."""
  names = list(columns)
  stacks = [to_uint8(columns[n]) for n in names]
  n, h, w, c = stacks[0].shape
  cell_h, cell_w = h * scale + pad, w * scale + pad
  grid = np.full((n * cell_h + pad, len(stacks) * cell_w + pad, 3), 255, np.uint8)
  for j, stack in enumerate(stacks):
    for i in range(n):
      img = np.repeat(np.repeat(stack[i], scale, 0), scale, 1)
      if c == 1:
        img = np.repeat(img, 3, axis=-1)
      top, left = pad + i * cell_h, pad + j * cell_w
      grid[top:top + h * scale, left:left + w * scale] = img[..., :3]
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  Image.fromarray(grid).save(path)
  return path
