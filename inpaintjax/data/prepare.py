"""Prepares the public datasets as the project's npz files, from their own distribution formats.

  python -m inpaintjax.data.prepare NAME --out=DIR [--from=FILE_DIR_OR_URL]

NAME: cifar10, mnist, fashion_mnist, kmnist, kannada_mnist. Writes DIR/NAME_train.npz and
DIR/NAME_test.npz (and, for kannada_mnist, DIR/kannada_mnist_dig.npz: the Dig-MNIST set), each
with `images` uint8 N×H×W×C and `labels` uint8 (N,), then train with e.g.
`--config.data.name=npz:data/cifar10_train.npz --config.data.holdout=0.04`.

Read without TensorFlow or pickle: CIFAR-10's binary version (`cifar-10-binary.tar.gz`: records
of 1 label byte + 3,072 pixel bytes, the red, green and blue planes row by row), the idx-ubyte
files (gzipped or not) of the MNIST family and of Kannada-MNIST.

The documented order: a training split is sorted by the SHA-256 of each image's record — its
label byte followed by its pixels as H×W×C uint8 bytes — so "the last 2,000 images of
`prepare cifar10`'s training split" are the same images for everyone, whatever order a copy of
the data came in (the sort needs nothing but the images). Test splits keep their official order.

Without --from the files are downloaded from the dataset's official address (the command says
which) and checked against the published MD5 where the dataset publishes one (Kannada-MNIST
does not: its files' SHA-256 is printed instead). Offline, it says which files to fetch and
how to pass them: --from=DIR (a folder holding them), --from=FILE (CIFAR-10's archive), or
--from=URL (another address: the archive's, or the folder's for a set of files).
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import hashlib
import io
import os
import sys
import tarfile
import urllib.error
import urllib.request

import numpy as np
import tqdm

from inpaintjax.errors import DataError


@dataclasses.dataclass(frozen=True)
class Source:
  """Where a dataset's files are published, their MD5s ('' = none published), how to read them."""
  base_url: str
  md5: dict[str, str]
  splits: dict[str, tuple[str, str]]  # split → (images file, labels file); CIFAR: its members.


def _idx_source(base_url, md5, names=None):
  names = names or {'train': ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'),
                    'test': ('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz')}
  return Source(base_url, md5, names)


CIFAR_MEMBERS = {'train': tuple(f'data_batch_{i}.bin' for i in range(1, 6)),
                 'test': ('test_batch.bin',)}
SOURCES = {
    'cifar10': Source('https://www.cs.toronto.edu/~kriz/',
                      {'cifar-10-binary.tar.gz': 'c32a1d4ab5d03f1284b67883e8d87530'},
                      {'train': ('cifar-10-binary.tar.gz', ''),
                       'test': ('cifar-10-binary.tar.gz', '')}),
    # yann.lecun.com refuses downloads now; this is the mirror TFDS and torchvision use.
    'mnist': _idx_source('https://storage.googleapis.com/cvdf-datasets/mnist/', {
        'train-images-idx3-ubyte.gz': 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
        'train-labels-idx1-ubyte.gz': 'd53e105ee54ea40749a09fcbcd1e9432',
        't10k-images-idx3-ubyte.gz': '9fb629c4189551a2d022fa330f9573f3',
        't10k-labels-idx1-ubyte.gz': 'ec29112dd5afa0611ce80d1b7f02629c'}),
    'fashion_mnist': _idx_source('http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/', {
        'train-images-idx3-ubyte.gz': '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
        'train-labels-idx1-ubyte.gz': '25c81989df183df01b3e8a0aad5dffbe',
        't10k-images-idx3-ubyte.gz': 'bef4ecab320f06d8554ea6380940ec79',
        't10k-labels-idx1-ubyte.gz': 'bb300cfdad3c16e7a12a480ee83cd310'}),
    'kmnist': _idx_source('http://codh.rois.ac.jp/kmnist/dataset/kmnist/', {
        'train-images-idx3-ubyte.gz': 'bdb82020997e1d708af4cf47b453dcf7',
        'train-labels-idx1-ubyte.gz': 'e144d726b3acfaa3e44228e80efcd344',
        't10k-images-idx3-ubyte.gz': '5c965bf0a639b31b8f53240b1b52f4d7',
        't10k-labels-idx1-ubyte.gz': '7320c461ea6c1c855c0b718fb2a4b134'}),
    'kannada_mnist': _idx_source(
        'https://raw.githubusercontent.com/vinayprabhu/Kannada_MNIST/master/data/output_tensors/'
        'MNIST_format/', {}, names={
            'train': ('X_kannada_MNIST_train-idx3-ubyte.gz', 'y_kannada_MNIST_train-idx1-ubyte.gz'),
            'test': ('X_kannada_MNIST_test-idx3-ubyte.gz', 'y_kannada_MNIST_test-idx1-ubyte.gz'),
            'dig': ('X_dig_MNIST-idx3-ubyte.gz', 'y_dig_MNIST-idx1-ubyte.gz')}),
}


def file_names(name: str) -> list[str]:
  """The files dataset `name` is made from."""
  return sorted({f for pair in SOURCES[name].splits.values() for f in pair if f})


def read_idx(data: bytes, what: str) -> np.ndarray:
  """An idx-ubyte array (gzipped or not): uint8 data, big-endian dimensions."""
  if data[:2] == b'\x1f\x8b':
    try:
      data = gzip.decompress(data)
    except (OSError, EOFError) as e:
      raise DataError(f'{what}: not a readable gzip file ({e}).') from None
  if len(data) < 4 or data[:2] != b'\0\0' or data[2] != 0x08 or not 1 <= data[3] <= 4:
    raise DataError(f'{what}: not a uint8 idx file (magic {data[:4].hex() or "missing"}).')
  ndim = data[3]
  if len(data) < 4 + 4 * ndim:
    raise DataError(f'{what}: truncated (its header is cut short).')
  dims = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim))
  body = data[4 + 4 * ndim:]
  if len(body) != int(np.prod(dims)):
    raise DataError(f'{what}: truncated or padded: {len(body)} data bytes for shape {dims}.')
  return np.frombuffer(body, np.uint8).reshape(dims)


def read_cifar_records(data: bytes, what: str) -> tuple[np.ndarray, np.ndarray]:
  """CIFAR-10 binary records → (images N×32×32×3, labels)."""
  if not data or len(data) % 3073:
    raise DataError(f'{what}: truncated: {len(data)} bytes is not a whole number of 3,073-byte '
                    'CIFAR-10 records.')
  records = np.frombuffer(data, np.uint8).reshape(-1, 3073)
  labels = records[:, 0].copy()
  if labels.max() > 9:
    raise DataError(f'{what}: label {labels.max()} is not a CIFAR-10 class: not a CIFAR-10 '
                    'binary file.')
  return records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy(), labels


def cifar_members(archive: bytes, what: str) -> dict[str, bytes]:
  """The record files of CIFAR-10's binary archive (read by name: nothing is extracted)."""
  try:
    with tarfile.open(fileobj=io.BytesIO(archive), mode='r:*') as tar:
      found = {os.path.basename(m.name): m for m in tar.getmembers() if m.isfile()}
      wanted = [f for files in CIFAR_MEMBERS.values() for f in files]
      missing = [f for f in wanted if f not in found]
      if missing:
        raise DataError(f'{what}: not CIFAR-10\'s binary archive (no {", ".join(missing)}).')
      return {f: tar.extractfile(found[f]).read() for f in wanted}
  except (tarfile.TarError, EOFError, OSError) as e:
    raise DataError(f'{what}: not a readable tar.gz archive ({e}).') from None


def canonical_order(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
  """Indices that sort records by SHA-256(label byte + H×W×C pixel bytes): the documented
  training order, independent of the order the records came in."""
  keys = [hashlib.sha256(bytes([int(l)]) + im.tobytes()).digest()
          for im, l in zip(tqdm.tqdm(images, desc='ordering', unit='image', leave=False), labels)]
  return np.asarray(sorted(range(len(keys)), key=keys.__getitem__), np.int64)


def _md5(data: bytes) -> str:
  return hashlib.md5(data, usedforsecurity=False).hexdigest()


def download(url: str, what: str) -> bytes:
  """The bytes at `url`, with a progress bar; a failure says what to fetch by hand."""
  print(f'downloading {url}', flush=True)
  try:
    with urllib.request.urlopen(url, timeout=60) as response:
      total = int(response.headers.get('Content-Length') or 0) or None
      chunks = []
      with tqdm.tqdm(total=total, unit='B', unit_scale=True, desc=what) as bar:
        while chunk := response.read(1 << 20):
          chunks.append(chunk)
          bar.update(len(chunk))
      return b''.join(chunks)
  except (urllib.error.URLError, OSError, ValueError) as e:
    raise DataError(f'cannot download {url} ({getattr(e, "reason", e)}). Fetch it by hand '
                    'and pass --from=THE_FILE_OR_ITS_FOLDER.') from None


def fetch(name: str, source: str) -> dict[str, bytes]:
  """{file name: bytes} for dataset `name`, from `source` ('' = the official address)."""
  spec, out = SOURCES[name], {}
  for f in file_names(name):
    if source.startswith(('http://', 'https://')):
      url = source if source.endswith(f) or len(file_names(name)) == 1 else (
          source.rstrip('/') + '/' + f)
      out[f] = download(url, f)
    elif source:
      path = source if os.path.isfile(source) and len(file_names(name)) == 1 else (
          os.path.join(source, f))
      if not os.path.isfile(path):
        raise DataError(f'{path} not found: --from must be a folder holding '
                        f'{", ".join(file_names(name))} (from {spec.base_url})'
                        + (' or that file itself.' if len(file_names(name)) == 1 else '.'))
      with open(path, 'rb') as fh:
        out[f] = fh.read()
    else:
      out[f] = download(spec.base_url + f, f)
    published = spec.md5.get(f)
    if published and _md5(out[f]) != published:
      raise DataError(f'{f}: MD5 {_md5(out[f])} differs from the published {published}: '
                      'a damaged or different file; refused.')
    print(f'{f}: {"MD5 matches the published " + published if published else "no published checksum"}'
          f'; SHA-256 {hashlib.sha256(out[f]).hexdigest()}')
  return out


def convert(name: str, files: dict[str, bytes]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
  """{split: (images N×H×W×C uint8, labels uint8)}, training split in the documented order."""
  spec, out = SOURCES[name], {}
  if name == 'cifar10':
    members = cifar_members(files['cifar-10-binary.tar.gz'], 'cifar-10-binary.tar.gz')
    for split, member_names in CIFAR_MEMBERS.items():
      parts = [read_cifar_records(members[m], m) for m in member_names]
      out[split] = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
  else:
    for split, (images_file, labels_file) in spec.splits.items():
      images = read_idx(files[images_file], images_file)
      labels = read_idx(files[labels_file], labels_file)
      if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(f'{images_file} / {labels_file}: shapes {images.shape} and '
                        f'{labels.shape} are not N×H×W images with N labels.')
      out[split] = (images[..., None], labels)
  images, labels = out['train']
  order = canonical_order(images, labels)
  out['train'] = (images[order], labels[order])
  return out


def prepare(name: str, out_dir: str, source: str = '') -> list[str]:
  """Fetches, checks, converts and writes dataset `name`; returns the files written."""
  if name not in SOURCES:
    raise DataError(f'Unknown dataset {name!r}; known: {", ".join(SOURCES)}.')
  splits = convert(name, fetch(name, source))
  os.makedirs(out_dir, exist_ok=True)
  written = []
  for split, (images, labels) in splits.items():
    path = os.path.join(out_dir, f'{name}_{split}.npz')
    np.savez(path, images=images, labels=labels)
    written.append(path)
    print(f'wrote {path}: {len(images)} images {images.shape[1:]}')
  return written


def build_parser() -> argparse.ArgumentParser:
  """The command's flags (the tests parse every documented command line with it)."""
  p = argparse.ArgumentParser(prog='python -m inpaintjax.data.prepare', description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument('name', help=', '.join(SOURCES))
  p.add_argument('--out', default='data', help='Folder for NAME_{train,test}.npz (default data).')
  p.add_argument('--from', dest='source', default='',
                 help='A folder holding the files, the archive itself, or a URL.')
  return p


def main(argv=None) -> int:
  """Command-line entry point; bad input ends with a one-line error and status 2."""
  p = build_parser()
  args = p.parse_args(argv)
  try:
    prepare(args.name, args.out, args.source)
  except (DataError, OSError) as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  return 0


if __name__ == '__main__':
  sys.exit(main())
