"""The inpaint command: image and mask reading, pieces outside in, windows, bad input."""

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from inpaintjax import inpaint
from tests.conftest import REPO


def _photo(h=40, w=50, c=3, seed=0):
  rng = np.random.default_rng(seed)
  yy, xx = np.mgrid[:h, :w]
  base = 100 + 60 * np.sin(yy / 6.0)[..., None] * np.cos(xx / 7.0)[..., None]
  return np.clip(base + rng.integers(0, 20, (h, w, c)), 0, 255).astype(np.uint8)


def _save(path, array, mode=None):
  Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array, mode=mode).save(path)
  return str(path)


def _mask(h=40, w=50, box=(10, 12, 8, 8)):
  m = np.zeros((h, w, 1), np.uint8)
  top, left, bh, bw = box
  m[top:top + bh, left:left + bw] = 255
  return m


def test_reads_grey_rgb_rgba_palette_and_16_bit(tmp_path):
  rgb = _photo()
  for c in (1, 3, 4):
    array, notes = inpaint.read_image(_save(tmp_path / f'c{c}.png', _photo(c=c)))
    assert array.shape == (40, 50, c) and array.dtype == np.uint8 and not notes
  np.testing.assert_array_equal(inpaint.read_image(_save(tmp_path / 'rgb.png', rgb))[0], rgb)
  palette = Image.fromarray(rgb).convert('P', palette=Image.ADAPTIVE, colors=16)
  palette.save(tmp_path / 'p.png')
  array, notes = inpaint.read_image(str(tmp_path / 'p.png'))
  assert array.shape == (40, 50, 3) and 'palette' in notes[0]
  wide = (np.arange(40 * 50).reshape(40, 50) * 30).astype(np.uint16)
  Image.fromarray(wide).save(tmp_path / 'i16.png')
  array, notes = inpaint.read_image(str(tmp_path / 'i16.png'))
  assert array.shape == (40, 50, 1) and '8 bits' in notes[0]
  np.testing.assert_array_equal(array[..., 0], np.round(wide / 257.0).astype(np.uint8))


def test_bad_files_and_masks_are_named(tmp_path):
  with pytest.raises(FileNotFoundError, match='no such file'):
    inpaint.read_image(str(tmp_path / 'missing.png'))
  (tmp_path / 'text.png').write_text('not an image')
  with pytest.raises(ValueError, match='cannot read it as an image'):
    inpaint.read_image(str(tmp_path / 'text.png'))
  whole = open(_save(tmp_path / 'whole.png', _photo()), 'rb').read()
  (tmp_path / 'cut.png').write_bytes(whole[:len(whole) // 2])
  with pytest.raises(ValueError, match='cannot read it as an image'):
    inpaint.read_image(str(tmp_path / 'cut.png'))
  with pytest.raises(ValueError, match='is 40×49 but the image is 40×50'):
    inpaint.read_mask(_save(tmp_path / 'small.png', _mask(40, 49)), (40, 50, 3))
  with pytest.raises(ValueError, match='no white pixel'):
    inpaint.read_mask(_save(tmp_path / 'empty.png', np.zeros((40, 50, 1), np.uint8)), (40, 50))
  with pytest.raises(ValueError, match='all white'):
    inpaint.read_mask(_save(tmp_path / 'full.png', np.full((40, 50, 1), 255, np.uint8)),
                      (40, 50))


def test_pieces_cover_the_hole_once_from_the_outside_in():
  hole = np.zeros((30, 30), bool)
  hole[5:22, 8:25] = True
  parts = list(inpaint.pieces(hole, 6))
  assert len(parts) > 1
  covered = np.zeros_like(hole, int)
  for top, left, part in parts:
    rows, cols = np.nonzero(part)
    assert rows.min() >= top and rows.max() < top + 6 and cols.min() >= left and cols.max() < left + 6
    covered += part
  np.testing.assert_array_equal(covered, hole.astype(int))
  first = parts[0][2]
  known = ~hole
  touches = first & (np.roll(known, 1, 0) | np.roll(known, -1, 0) | np.roll(known, 1, 1)
                     | np.roll(known, -1, 1))
  assert touches.any()  # The first piece lies on the hole's edge, not in its middle.
  small = np.zeros((30, 30), bool)
  small[0:3, 27:30] = True  # A corner hole that fits: one piece.
  assert len(list(inpaint.pieces(small, 6))) == 1


@pytest.mark.parametrize('channels', [1, 3, 4])
def test_baseline_keeps_known_pixels_and_alpha(tmp_path, channels):
  image = _photo(c=channels)
  out = tmp_path / 'out.png'
  inpaint.run(_save(tmp_path / 'in.png', image), _save(tmp_path / 'm.png', _mask()), str(out),
              baseline='biharmonic')
  result = inpaint.read_image(str(out))[0]
  hole = _mask()[..., 0] > 0
  assert result.shape == image.shape
  np.testing.assert_array_equal(result[~hole], image[~hole])
  if channels == 4:
    np.testing.assert_array_equal(result[..., 3], image[..., 3])
  err = np.abs(result[hole][..., :3].astype(float) - image[hole][..., :3]).mean()
  assert err < 40  # Smooth image: the biharmonic fill is close.


@pytest.fixture
def unet_run(unet_smoke_run):
  return unet_smoke_run


@pytest.mark.parametrize('channels', [1, 3])
def test_model_fills_a_large_hole_in_pieces_on_any_size(tmp_path, unet_run, channels):
  image = _photo(45, 61, channels)  # Not the model's 32×32.
  mask = _mask(45, 61, (2, 30, 20, 24))  # 20×24 > the model's 8×8 hole; touches the top.
  out = str(tmp_path / 'out.png')
  notes = inpaint.run(_save(tmp_path / 'in.png', image), _save(tmp_path / 'm.png', mask), out,
                      workdir=unet_run)
  assert any('pieces, outside in' in n for n in notes)
  if channels == 1:
    assert any('averaged to grey' in n for n in notes)
  result = inpaint.read_image(out)[0]
  hole = mask[..., 0] > 0
  np.testing.assert_array_equal(result[~hole], image[~hole])
  assert result.shape == image.shape and not np.array_equal(result[hole], image[hole])


def test_cli_errors_are_one_line(tmp_path):
  image = _save(tmp_path / 'in.png', _photo())
  cases = [
      ([f'--image={tmp_path}/none.png', f'--mask={image}'], 'no such file'),
      ([f'--image={image}', f'--mask={_save(tmp_path / "e.png", _mask(40, 50, (0, 0, 0, 0)))}'],
       'no white pixel'),
      ([f'--image={image}', f'--mask={image}', '--baseline=magic'], 'Unknown baseline'),
  ]
  for args, message in cases:
    base = [] if '--baseline=magic' in args else ['--baseline=biharmonic']
    result = subprocess.run([sys.executable, '-m', 'inpaintjax.inpaint', *base, *args,
                             f'--out={tmp_path}/o.png'], cwd=REPO, capture_output=True,
                            text=True, timeout=120, env=dict(os.environ, PYTHONPATH=REPO))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and 'Traceback' not in result.stderr
