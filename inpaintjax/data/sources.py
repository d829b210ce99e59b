"""Datasets as uint8 arrays: TFDS, npz files, or photos embedded in scikit-image.

`config.data.name` is one of
  * a TFDS name (`cifar10`, `mnist`, `fashion_mnist`, `kmnist`, ...), read
    through `tfds.data_source` (array_record, no TensorFlow needed to read);
  * `npz:PATH`, a file with `images` (uint8, N×H×W×C or N×H×W) and optional
    `labels`, as `python -m inpaintjax.data.prepare NAME` writes them; `npz:PATH@A:B` keeps
    rows A..B-1 (`@48000:` the last 2,000 of 50,000, `@:5000` the first 5,000);
  * several of those joined with '+' (`npz:a.npz+npz:b.npz`), concatenated in order;
  * `embedded`: deterministic crops of the photos that ship inside the
    scikit-image wheel, so every config runs offline. Train and test crops
    come from different photos.

When a TFDS dataset cannot be had (offline, not prepared), `load_split` falls
back to `config.data.fallback` (default `embedded`) and says so loudly; an
empty fallback makes it an error instead.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import zipfile

import numpy as np

from inpaintjax.data import prepare
from inpaintjax.errors import DataError

EMBEDDED_COLOUR = ('astronaut', 'chelsea', 'coffee', 'rocket', 'hubble_deep_field',
                   'immunohistochemistry', 'retina', 'stereo_motorcycle')
EMBEDDED_GREY = ('camera', 'moon', 'brick', 'grass', 'gravel', 'coins', 'clock', 'page',
                 'text', 'cell')
# Photos kept for evaluation only, so embedded train and test crops never share a photo.
EMBEDDED_TEST = ('retina', 'coffee', 'coins', 'brick')
# Short side of the shrunk photo, in crop sizes; the index is an embedded crop's label.
EMBEDDED_ZOOMS = (1.5, 3.0, 5.0, 8.0)


class DatasetUnavailableError(DataError):
  """A known dataset that cannot be read here (not prepared, or no network)."""


@dataclasses.dataclass
class Dataset:
  """Images (uint8 N×H×W×C), labels (int32 N, or None) and the name actually read."""
  images: np.ndarray
  labels: np.ndarray | None
  name: str

  def __len__(self):
    return len(self.images)


def check_images(images, what='images') -> np.ndarray:
  """Returns uint8 N×H×W×C images, adding a channel axis to N×H×W; clear errors otherwise."""
  images = np.asarray(images)
  if images.dtype != np.uint8:
    raise DataError(f'{what} must be uint8 (0-255), got dtype {images.dtype}.')
  if images.ndim == 3:
    images = images[..., None]
  if images.ndim != 4 or images.shape[-1] not in (1, 3, 4):
    raise DataError(f'{what} must be N×H×W×C with C in 1, 3, 4, got shape {images.shape}.')
  if len(images) == 0:
    raise DataError(f'{what} is empty.')
  return images


def parse_rows(spec: str) -> tuple[str, slice | None]:
  """'PATH@A:B' → (PATH, slice(A, B)): rows A..B-1, Python's slice rules (negative counts from
  the end, either bound may be left out); 'PATH' → (PATH, None)."""
  path, at, rows = spec.rpartition('@') if '@' in spec else (spec, '', '')
  if not at:
    return spec, None
  try:
    start, stop = (int(x) if x else None for x in rows.split(':'))
  except ValueError:
    raise DataError(f'{spec!r}: rows must be @A:B, e.g. @48000: or @:5000 or @-2000:.') from None
  return path, slice(start, stop)


def load_npz(path: str) -> Dataset:
  """Reads `images` and optional `labels` from an npz file; 'PATH@A:B' keeps rows A..B-1."""
  spec = path
  path, rows = parse_rows(path)
  if not os.path.exists(path):
    raise FileNotFoundError(f'npz dataset not found: {path}')
  try:
    with np.load(path, allow_pickle=False) as f:
      if 'images' not in f.files:
        raise DataError(f'{path} has no `images` array (it has {f.files}).')
      images = f['images']
      labels = f['labels'].astype(np.int32) if 'labels' in f.files else None
  except (OSError, EOFError, ValueError, zipfile.BadZipFile) as e:
    if 'images' in str(e):
      raise
    raise DataError(f'{path} is not a readable npz file: {e}') from e
  if labels is not None and len(labels) != len(images):
    raise DataError(f'{path}: {len(labels)} labels for {len(images)} images.')
  if rows is not None:
    images, labels = images[rows], None if labels is None else labels[rows]
  images = check_images(images, f'{spec}:images')
  return Dataset(images, labels, f'npz:{spec}')


@functools.cache
def _photo(name: str) -> np.ndarray:
  import skimage.data  # pylint: disable=g-import-not-at-top
  img = getattr(skimage.data, name)()
  if isinstance(img, tuple):  # stereo_motorcycle returns (left, right, disparity)
    img = img[0]
  img = np.asarray(img)
  if img.dtype != np.uint8:
    img = (255 * (img.astype(np.float64) / max(img.max(), 1))).astype(np.uint8)
  return img[..., :3] if img.ndim == 3 else img


@functools.lru_cache(maxsize=8)
def embedded(split: str, size: int = 32, channels: int = 3, num: int = 4096,
             seed: int = 0) -> Dataset:
  """`num` deterministic size×size crops of scikit-image photos at several scales.

  Each photo is shrunk so that its short side is 1.5-8× the crop size (so that
  a crop holds an object's worth of structure, as in CIFAR), then cropped at
  random. Labels are the zoom level (0-3: the crop spans 1/1.5, 1/3, 1/5 or 1/8 of
  the photo's short side), a class that train and test crops share although they
  come from different photos, so a classifier trained offline is testable.
  Colour configs use the colour photos; grey configs use all photos converted to
  luminance.
  """
  import skimage.transform  # pylint: disable=g-import-not-at-top
  if split not in ('train', 'test'):
    raise DataError(f"embedded data has splits 'train' and 'test', not {split!r}.")
  names = EMBEDDED_COLOUR + (EMBEDDED_GREY if channels == 1 else ())
  names = [n for n in names if (n in EMBEDDED_TEST) == (split == 'test')]
  rng = np.random.default_rng([seed, split == 'test'])
  crops, labels = [], []
  per_photo = -(-num // len(names))
  for name in names:
    photo = _photo(name).astype(np.float32) / 255
    if channels == 1 and photo.ndim == 3:
      photo = photo @ np.array([0.299, 0.587, 0.114], np.float32)
    if channels == 3 and photo.ndim == 2:
      photo = np.repeat(photo[..., None], 3, axis=-1)
    if photo.ndim == 2:
      photo = photo[..., None]
    for label, factor in enumerate(EMBEDDED_ZOOMS):
      scale = factor * size / min(photo.shape[:2])
      small = skimage.transform.rescale(photo, min(scale, 1.0), channel_axis=-1,
                                        anti_aliasing=True)
      for _ in range(-(-per_photo // 4)):
        top = rng.integers(0, small.shape[0] - size + 1)
        left = rng.integers(0, small.shape[1] - size + 1)
        crops.append(small[top:top + size, left:left + size])
        labels.append(label)
  order = rng.permutation(len(crops))[:num]
  images = np.round(np.clip(np.stack(crops), 0, 1) * 255).astype(np.uint8)[order]
  return Dataset(images, np.asarray(labels, np.int32)[order], f'embedded:{split}')


def load_tfds(name: str, split: str, data_dir: str | None = None) -> Dataset:
  """Reads a prepared TFDS split with `tfds.data_source` (no TensorFlow needed)."""
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  try:
    builder = tfds.builder(name, data_dir=data_dir or None)
  except tfds.core.registered.DatasetNotFoundError as e:
    raise DataError(f'Unknown dataset name {name!r}: not a TFDS dataset, and not '
                     "'npz:PATH' or 'embedded'.") from e
  try:
    source = builder.as_data_source(split=split)
    records = source.__getitems__(list(range(len(source))))
  except Exception as e:  # pylint: disable=broad-except
    # TFDS raises several types here (AssertionError, FileNotFoundError, ...).
    # TFDS's own message wraps several layers (and may name files that do not exist): say
    # what is missing and the two ways to get it instead; the chained error keeps the detail.
    npz_route = (f'Without TensorFlow: python -m inpaintjax.data.prepare {name} --out=data, then '
                 f'--config.data.name=npz:data/{name}_train.npz (and --config.data.holdout or '
                 f'data.eval_name=npz:data/{name}_test.npz). ' if name in prepare.SOURCES else '')
    raise DatasetUnavailableError(
        f'TFDS dataset {name!r} (split {split!r}) is not prepared in {builder.data_dir}. '
        f'{npz_route}With TFDS, on a machine with network access: pip install '
        f'"inpaintjax[tfds-prepare]" && tfds build {name} --file_format=array_record.') from e
  images = check_images(np.stack([r['image'] for r in records]), f'{name}:{split}')
  labels = (np.asarray([r['label'] for r in records], np.int32)
            if 'label' in records[0] else None)
  return Dataset(images, labels, f'tfds:{name}:{split}')


def _match_channels(ds: Dataset, channels: int) -> Dataset:
  """Converts grey↔RGB (and drops alpha) so the data has the config's channel count."""
  images = ds.images
  if not channels or images.shape[-1] == channels:
    return ds
  if images.shape[-1] == 4:
    images = images[..., :3]
  if channels == 3 and images.shape[-1] == 1:
    images = np.repeat(images, 3, axis=-1)
  elif channels == 1 and images.shape[-1] == 3:
    grey = images.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    images = np.round(grey)[..., None].astype(np.uint8)
  return Dataset(images, ds.labels, ds.name)


def concatenate(parts: list[Dataset]) -> Dataset:
  """Datasets of the same image shape, one after the other (labels kept only if all have them)."""
  shapes = {p.images.shape[1:] for p in parts}
  if len(shapes) > 1:
    raise DataError('Datasets joined with "+" must have the same image shape, got '
                     + ', '.join(f'{p.name}: {p.images.shape[1:]}' for p in parts))
  labels = (np.concatenate([p.labels for p in parts])
            if all(p.labels is not None for p in parts) else None)
  return Dataset(np.concatenate([p.images for p in parts]), labels,
                 '+'.join(p.name for p in parts))


def _read(name: str, split: str, data_cfg) -> Dataset:
  """One dataset split by name, no fallback; `split` is 'train' or 'test'.

  'A+B' reads both and concatenates them, in that order (a holdout comes from B's end).
  """
  if '+' in name:
    return concatenate([_read(part, split, data_cfg) for part in name.split('+')])
  if name.startswith('npz:'):
    return load_npz(os.path.expanduser(name[4:]))
  if name == 'embedded':
    return embedded(split, data_cfg.image_size, data_cfg.channels or 3, data_cfg.embedded_size)
  tfds_split = data_cfg.train_split if split == 'train' else data_cfg.eval_split
  return load_tfds(name, tfds_split, data_cfg.data_dir)


def _holdout(ds: Dataset, fraction: float, take_tail: bool) -> Dataset:
  """The first (1-fraction) or the last `fraction` of a dataset (files are pre-shuffled)."""
  cut = len(ds) - max(1, int(round(len(ds) * fraction)))
  part = slice(cut, None) if take_tail else slice(0, cut)
  labels = None if ds.labels is None else ds.labels[part]
  return Dataset(ds.images[part], labels, f'{ds.name}[{"holdout" if take_tail else "rest"}]')


def load_split(data_cfg, split: str) -> Dataset:
  """The 'train' or 'eval' split that a config's `data` block describes.

  The eval split is, in order of preference: `data.eval_name` (another dataset),
  the last `data.holdout` fraction of the training data (when holdout > 0), or
  the dataset's own test split. `data.limit` / `data.eval_limit` cap the sizes.
  """
  if split not in ('train', 'eval'):
    raise DataError(f"split must be 'train' or 'eval', got {split!r}.")
  name = data_cfg.eval_name if (split == 'eval' and data_cfg.eval_name) else data_cfg.name
  use_holdout = data_cfg.holdout > 0 and not (split == 'eval' and data_cfg.eval_name)
  read_split = 'train' if use_holdout else ('train' if split == 'train' else 'test')
  try:
    ds = _read(name, read_split, data_cfg)
  except DatasetUnavailableError as e:
    if not data_cfg.fallback:
      raise
    logging.warning('!' * 78)
    logging.warning('DATASET %r UNAVAILABLE: %s', name, e)
    logging.warning('FALLING BACK TO %r (config.data.fallback); set fallback="" to make '
                    'this an error.', data_cfg.fallback)
    logging.warning('!' * 78)
    ds = _read(data_cfg.fallback, 'train' if split == 'train' else 'test', data_cfg)
    use_holdout = False
  if use_holdout:
    ds = _holdout(ds, data_cfg.holdout, take_tail=split == 'eval')
  limit = data_cfg.limit if split == 'train' else data_cfg.eval_limit
  if limit and len(ds) > limit:
    ds = Dataset(ds.images[:limit], None if ds.labels is None else ds.labels[:limit], ds.name)
  return _match_channels(ds, data_cfg.channels)
