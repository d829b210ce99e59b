"""Inpaints a user's own image with a trained run or a classical method.

  python -m inpaintjax.inpaint --image=photo.png --mask=mask.png --out=out.png   (the model
                               shipped with the package, shipped:cifar10)
  python -m inpaintjax.inpaint --workdir=RUN --image=photo.png --mask=mask.png --out=out.png
  python -m inpaintjax.inpaint --workdir=RUN --weights=raw ...   (default: the run's moving
                               average of the weights, when it keeps one)
  python -m inpaintjax.inpaint --baseline=biharmonic --image=photo.png --mask=mask.png --out=out.png

`--workdir` takes a run folder, an exported model's file (`python -m inpaintjax.export`) or a
shipped model's name (`shipped:cifar10`, `shipped:mnist`).

The mask is an image of the same size, white (> 127) where pixels are missing. Any image
size and 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA) channels: alpha is kept as it is and
only the colour is inpainted; 16-bit, palette, bilevel and other modes are converted to 8 bits
(and the command says so). A model sees windows of its own training size: each connected hole
is covered by a window around it, the image reflected at its borders where the window runs
off it. A model fills at most `piece`×`piece` pixels at once (the size of the centre hole it
was trained on; half its input for box or stroke holes): a larger hole is filled in pieces,
outside in (the pieces nearest the known pixels first, each then known to the next), and the
command says so. A grey image given to an RGB model is repeated over three channels and the
result averaged back; an RGB image given to a grey model is filled channel by channel.

Bad input ends with a one-line error and exit status 2: a missing, truncated or non-image
file, a mask whose size differs from the image's, an empty or all-white mask.
"""

from __future__ import annotations

import argparse
import os
import sys

import jax
import numpy as np
from scipy import ndimage

from inpaintjax import baselines, runs
from inpaintjax.errors import ConfigError, RunError


DEFAULT_MODEL = 'shipped:cifar10'  # export.SHIPPED: the package's own centre-hole U-Net.


def read_image(path: str, what: str = 'image') -> tuple[np.ndarray, list[str]]:
  """(uint8 H×W×C, C in 1..4, notes on any conversion) from an image file; clear errors."""
  from PIL import Image, UnidentifiedImageError  # pylint: disable=g-import-not-at-top
  if not os.path.isfile(path):
    raise FileNotFoundError(f'{what} {path}: no such file.')
  notes = []
  try:
    with Image.open(path) as im:
      im.load()  # Reads the pixels now, so a truncated file fails here.
      mode = im.mode
      if mode == 'P':
        im = im.convert('RGBA' if 'transparency' in im.info else 'RGB')
        notes.append(f'{what}: palette image converted to {im.mode}.')
      elif mode in ('1', 'CMYK', 'YCbCr', 'LAB', 'HSV', 'PA'):
        im = im.convert({'1': 'L', 'PA': 'RGBA'}.get(mode, 'RGB'))
        notes.append(f'{what}: mode {mode} converted to {im.mode}.')
      array = np.asarray(im)
  except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
    raise ValueError(f'{what} {path}: cannot read it as an image ({e}).') from None
  if array.dtype != np.uint8:  # 16-bit ('I;16', 'I') or float ('F') grey.
    wide = array.astype(np.float64)
    scale = 257.0 if wide.max() > 255 else 1.0
    array = np.round(np.clip(wide / scale, 0, 255)).astype(np.uint8)
    notes.append(f'{what}: {mode} ({array.dtype} after reading) converted to 8 bits'
                 + (' (divided by 257).' if scale > 1 else '.'))
  if array.ndim == 2:
    array = array[..., None]
  if array.ndim != 3 or array.shape[-1] not in (1, 2, 3, 4) or min(array.shape[:2]) < 2:
    raise ValueError(f'{what} {path}: unsupported shape {array.shape}.')
  return array, notes


def read_mask(path: str, image_shape) -> np.ndarray:
  """Bool H×W, True where missing (white); checks the size and that it is neither empty nor full."""
  array, _ = read_image(path, 'mask')
  return mask_from_array(array, image_shape, f'mask {path}')


def mask_from_array(array: np.ndarray, image_shape, what: str = 'the mask') -> np.ndarray:
  """Bool H×W from a mask image (uint8 H×W×C, white = missing), checked like `read_mask`."""
  grey = array[..., :3].mean(axis=-1) if array.shape[-1] >= 3 else array[..., 0]
  mask = grey > 127
  if mask.shape != tuple(image_shape[:2]):
    raise ValueError(f'{what} is {mask.shape[0]}×{mask.shape[1]} but the image is '
                     f'{image_shape[0]}×{image_shape[1]}.')
  return check_mask(mask, what)


def check_mask(mask: np.ndarray, what: str = 'the mask') -> np.ndarray:
  """`mask` (bool H×W) if it is neither empty nor full; else a one-line error."""
  if not mask.any():
    raise ValueError(f'{what} has no white pixel: nothing to inpaint.')
  if mask.all():
    raise ValueError(f'{what} is all white: there is no context to inpaint from.')
  return mask


def pieces(hole: np.ndarray, piece: int):
  """Yields (top, left, piece mask) covering `hole` (bool H×W, one connected hole), outside in.

  Each piece lies in a piece×piece box at (top, left). While the remaining hole does not fit
  one box, the next box is centred on the remaining pixel nearest the known pixels (raster
  order breaks ties), so the outer ring is filled first and each piece becomes context for the
  next.
  """
  remaining = hole.copy()
  while remaining.any():
    rows, cols = np.nonzero(remaining)
    top, left = rows.min(), cols.min()
    height, width = rows.max() - top + 1, cols.max() - left + 1
    if height <= piece and width <= piece:  # The rest fits: centre the box on it.
      top -= (piece - height) // 2
      left -= (piece - width) // 2
    else:
      depth = ndimage.distance_transform_cdt(remaining, metric='chessboard')
      r, c = np.unravel_index(np.argmin(np.where(remaining, depth, np.iinfo(depth.dtype).max)),
                              depth.shape)
      top, left = r - piece // 2, c - piece // 2
    box = np.zeros_like(remaining)
    box[max(top, 0):max(top + piece, 0), max(left, 0):max(left + piece, 0)] = True
    part = remaining & box
    remaining &= ~part
    yield int(top), int(left), part


class ModelFiller:
  """A trained run's inpaint, on windows of its own input size."""

  def __init__(self, workdir: str, seed: int = 0, weights: str = ''):
    config, task, state = runs.read_run(workdir, weights=weights)
    if task.inpaint is None:
      raise ValueError(f'{workdir}: its task ({config.task}) does not inpaint.')
    self.height, self.width, self.channels = runs.read_data_info(workdir)['image_shape']
    hole = task.hole
    self.piece = (hole.size if hole is not None and hole.kind == 'center'
                  else min(self.height, self.width) // 2)
    self.devices = jax.device_count()
    self.task_name = config.task
    self.key = jax.random.PRNGKey(seed)  # A sampler's draw: set another key for another one.
    self._inpaint = jax.jit(lambda images, mask, key: task.inpaint(state, images, mask, key))

  def fill(self, image: np.ndarray, part: np.ndarray, top: int, left: int) -> np.ndarray:
    """`image` (uint8 H×W×C, the model's C) with the pixels of `part` filled by the model.

    The window is placed so that the piece box at (top, left) is the window's centre hole.
    """
    h, w = self.height, self.width
    wtop, wleft = top - (h - self.piece) // 2, left - (w - self.piece) // 2
    pad = max(h, w)
    padded = np.pad(image, ((pad, pad), (pad, pad), (0, 0)), mode='symmetric')
    mask = np.pad(part, pad)[wtop + pad:wtop + pad + h, wleft + pad:wleft + pad + w]
    window = padded[wtop + pad:wtop + pad + h, wleft + pad:wleft + pad + w]
    n = self.devices  # One window, repeated so the batch splits over the devices.
    images = np.repeat(window[None].astype(np.float32) / 255.0, n, axis=0)
    masks = np.repeat(mask[None, ..., None].astype(np.float32), n, axis=0)
    raw = np.asarray(self._inpaint(images, masks, self.key))[0]
    out = np.round(np.clip(raw, 0, 1) * 255).astype(np.uint8)
    result = padded.copy()
    region = result[wtop + pad:wtop + pad + h, wleft + pad:wleft + pad + w]
    region[mask] = out[mask]
    return result[pad:pad + image.shape[0], pad:pad + image.shape[1]]


def _fill_colour(colour: np.ndarray, mask: np.ndarray, filler: ModelFiller,
                 notes: list[str]) -> np.ndarray:
  """Fills every connected hole of `mask` in `colour` (uint8 H×W×C) with the model."""
  c = colour.shape[-1]
  if c != filler.channels:
    if filler.channels == 3 and c == 1:  # Grey into an RGB model, averaged back.
      notes.append('grey image: filled as RGB by the colour model, then averaged to grey.')
      rgb = _fill_colour(np.repeat(colour, 3, axis=-1), mask, filler, notes)
      return np.round(rgb.astype(np.float32).mean(axis=-1, keepdims=True)).astype(np.uint8)
    if filler.channels == 1:  # Colour into a grey model: each channel on its own.
      notes.append(f'{c}-channel image: filled channel by channel by the grey model.')
      return np.concatenate([_fill_colour(colour[..., i:i + 1], mask, filler,
                                          notes if i == 0 else [])  # Notes once, not per channel.
                             for i in range(c)], axis=-1)
    raise ValueError(f'The model takes {filler.channels} channels; the image has {c}.')
  labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
  out = colour.copy()
  for k in range(1, count + 1):
    hole = labels == k
    parts = list(pieces(hole, filler.piece))
    if len(parts) > 1:
      rows, cols = np.nonzero(hole)
      notes.append(f'hole {k} ({rows.max() - rows.min() + 1}×{cols.max() - cols.min() + 1} px) '
                   f'is larger than the model fills at once ({filler.piece}×{filler.piece}): '
                   f'filled in {len(parts)} pieces, outside in.')
    for top, left, part in parts:
      out = filler.fill(out, part, top, left)
  return out


def inpaint(image: np.ndarray, mask: np.ndarray, filler: ModelFiller | None = None,
            baseline: str = '') -> tuple[np.ndarray, list[str]]:
  """(the inpainted uint8 image, notes): alpha untouched, known pixels copied bit for bit."""
  notes: list[str] = []
  c = image.shape[-1]
  colour, alpha = (image[..., :c - 1], image[..., c - 1:]) if c in (2, 4) else (image, None)
  if filler is not None:
    filled = _fill_colour(colour, mask, filler, notes)
  else:
    filled = baselines.inpaint_baseline(baseline, colour[None], mask[None, ..., None])[0]
  filled = np.where(mask[..., None], filled, colour)  # Known pixels exactly as given.
  return (filled if alpha is None else np.concatenate([filled, alpha], axis=-1)), notes


def write_image(path: str, image: np.ndarray) -> None:
  """Saves uint8 H×W×C (C = 1..4) as L, LA, RGB or RGBA."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  mode = {1: 'L', 2: 'LA', 3: 'RGB', 4: 'RGBA'}[image.shape[-1]]
  Image.fromarray(image[..., 0] if mode == 'L' else image, mode=mode).save(path)


def run(image: str, mask: str, out: str, workdir: str = '', baseline: str = '',
        seed: int = 0, weights: str = '') -> list[str]:
  """The command's work; returns the notes it printed. `weights`: as evaluate's --weights."""
  if workdir and baseline:
    raise ValueError('Give one of --workdir (a trained run) or --baseline (a method), not both.')
  notes = []
  if not workdir and not baseline:
    workdir = DEFAULT_MODEL
    notes.append(f'no --workdir: using the model shipped with inpaintjax, {DEFAULT_MODEL}.')
  if baseline and baseline not in baselines.BASELINES:
    raise ValueError(f'Unknown baseline {baseline!r}; known: {", ".join(baselines.BASELINES)}.')
  pixels, read_notes = read_image(image)
  notes += read_notes
  hole = read_mask(mask, pixels.shape)
  if weights and not workdir:
    raise ValueError('--weights applies to a trained run (--workdir), not a baseline.')
  filler = ModelFiller(workdir, seed, weights) if workdir else None
  result, more = inpaint(pixels, hole, filler, baseline)
  notes += more
  os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
  write_image(out, result)
  for note in notes + [f'wrote {out} ({int(hole.sum())} pixels inpainted)']:
    print(note)
  return notes


def build_parser() -> argparse.ArgumentParser:
  """The command's flags (the tests parse every documented command line with it)."""
  p = argparse.ArgumentParser(prog='python -m inpaintjax.inpaint', description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument('--workdir', default='', help='A training run folder, an exported file or '
                 'shipped:NAME (default: shipped:cifar10).')
  p.add_argument('--baseline', default='', help=f'One of {", ".join(baselines.BASELINES)}.')
  p.add_argument('--image', required=True)
  p.add_argument('--mask', required=True, help='Same size as the image; white = missing.')
  p.add_argument('--out', required=True, help='Output image (PNG).')
  p.add_argument('--seed', type=int, default=0, help='Seed of a sampling model.')
  p.add_argument('--weights', default='', choices=('', 'ema', 'raw'),
                 help="'ema' (the moving average) or 'raw' (the trained weights); default: the "
                      'average when the run keeps one.')
  return p


def main(argv=None) -> int:
  """Command-line entry point; bad input ends with a one-line error, not a traceback."""
  p = build_parser()
  args = p.parse_args(argv)
  try:
    run(**vars(args))
  except (ValueError, FileNotFoundError, ConfigError, RunError) as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  return 0


if __name__ == '__main__':
  sys.exit(main())
