"""The dataset converters, on small files written in each dataset's own format."""

import dataclasses
import gzip
import hashlib
import io
import tarfile

import numpy as np
import pytest

from inpaintjax.data import prepare, sources
from inpaintjax.errors import DataError


def idx_bytes(array: np.ndarray) -> bytes:
  header = bytes([0, 0, 0x08, array.ndim]) + b''.join(d.to_bytes(4, 'big') for d in array.shape)
  return header + array.astype(np.uint8).tobytes()


def write_idx_set(folder, names, rng, counts=(12, 5), size=28, gz=True):
  """Writes a train and a test split (and more) in idx format; returns {split: (images, labels)}."""
  written = {}
  for (split, (images_file, labels_file)), n in zip(names.items(), counts + (4,) * 5):
    images = rng.integers(0, 256, (n, size, size), dtype=np.uint8)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    for fname, arr in ((images_file, images), (labels_file, labels)):
      data = idx_bytes(arr)
      (folder / fname).write_bytes(gzip.compress(data) if gz else data)
    written[split] = (images, labels)
  return written


def no_checksums(monkeypatch, name):
  monkeypatch.setitem(prepare.SOURCES, name, dataclasses.replace(prepare.SOURCES[name], md5={}))


@pytest.mark.parametrize('name, gz', [('mnist', True), ('fashion_mnist', False),
                                      ('kannada_mnist', True)])
def test_idx_sets_convert_with_the_documented_order(tmp_path, monkeypatch, name, gz):
  no_checksums(monkeypatch, name)
  rng = np.random.default_rng(0)
  truth = write_idx_set(tmp_path, prepare.SOURCES[name].splits, rng, gz=gz)
  written = prepare.prepare(name, str(tmp_path / 'out'), str(tmp_path))
  assert len(written) == len(truth)
  for split, (images, labels) in truth.items():
    ds = sources.load_npz(str(tmp_path / 'out' / f'{name}_{split}.npz'))
    assert ds.images.dtype == np.uint8 and ds.images.shape == images.shape + (1,)
    if split == 'train':  # Sorted by the SHA-256 of label byte + pixels.
      keys = [hashlib.sha256(bytes([int(l)]) + im.tobytes()).hexdigest()
              for im, l in zip(ds.images, ds.labels)]
      assert keys == sorted(keys)
      assert sorted(map(bytes, ds.images)) == sorted(map(bytes, images[..., None]))
    else:  # Test splits keep the official order.
      np.testing.assert_array_equal(ds.images[..., 0], images)
      np.testing.assert_array_equal(ds.labels, labels)


def cifar_archive(rng, per_batch=3):
  """A cifar-10-binary.tar.gz with `per_batch` records per file; returns (bytes, {split: ...})."""
  buf, truth = io.BytesIO(), {'train': ([], []), 'test': ([], [])}
  with tarfile.open(fileobj=buf, mode='w:gz') as tar:
    for split, members in prepare.CIFAR_MEMBERS.items():
      for member in members:
        images = rng.integers(0, 256, (per_batch, 32, 32, 3), dtype=np.uint8)
        labels = rng.integers(0, 10, per_batch, dtype=np.uint8)
        records = np.concatenate([labels[:, None],
                                  images.transpose(0, 3, 1, 2).reshape(per_batch, -1)], axis=1)
        data = records.astype(np.uint8).tobytes()
        info = tarfile.TarInfo(f'cifar-10-batches-bin/{member}')
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        truth[split][0].append(images)
        truth[split][1].append(labels)
  return buf.getvalue(), {k: (np.concatenate(v[0]), np.concatenate(v[1])) for k, v in
                          truth.items()}


def test_cifar_binary_records_convert_and_the_checksum_is_checked(tmp_path, monkeypatch):
  archive, truth = cifar_archive(np.random.default_rng(1))
  path = tmp_path / 'cifar-10-binary.tar.gz'
  path.write_bytes(archive)
  with pytest.raises(DataError, match='differs from the published c32a1d4a.*refused'):
    prepare.prepare('cifar10', str(tmp_path / 'out'), str(path))
  monkeypatch.setitem(prepare.SOURCES, 'cifar10', dataclasses.replace(
      prepare.SOURCES['cifar10'], md5={path.name: hashlib.md5(archive).hexdigest()}))
  prepare.prepare('cifar10', str(tmp_path / 'out'), str(path))
  test = sources.load_npz(str(tmp_path / 'out' / 'cifar10_test.npz'))
  np.testing.assert_array_equal(test.images, truth['test'][0])  # Planes → H×W×C, in order.
  np.testing.assert_array_equal(test.labels, truth['test'][1])
  train = sources.load_npz(str(tmp_path / 'out' / 'cifar10_train.npz'))
  assert train.images.shape == (15, 32, 32, 3)
  order = prepare.canonical_order(truth['train'][0], truth['train'][1])
  np.testing.assert_array_equal(train.images, truth['train'][0][order])
  np.testing.assert_array_equal(train.labels, truth['train'][1][order])


def test_bad_files_fail_with_one_line_naming_them(tmp_path, monkeypatch):
  no_checksums(monkeypatch, 'mnist')
  write_idx_set(tmp_path, prepare.SOURCES['mnist'].splits, np.random.default_rng(2), gz=False)
  images = tmp_path / 'train-images-idx3-ubyte.gz'
  good = images.read_bytes()
  images.write_bytes(good[:-10])
  with pytest.raises(DataError, match='train-images-idx3-ubyte.gz: truncated'):
    prepare.prepare('mnist', str(tmp_path / 'out'), str(tmp_path))
  images.write_bytes(b'\x00\x00\x0d\x03' + good[4:])
  with pytest.raises(DataError, match='train-images-idx3-ubyte.gz: not a uint8 idx file'):
    prepare.prepare('mnist', str(tmp_path / 'out'), str(tmp_path))
  with pytest.raises(DataError, match='test_batch.bin: truncated'):
    prepare.read_cifar_records(b'\x01' * 3000, 'test_batch.bin')
  with pytest.raises(DataError, match='not a readable tar.gz'):
    prepare.cifar_members(b'not an archive', 'cifar-10-binary.tar.gz')
  assert prepare.main(['mnist', '--out', str(tmp_path / 'o'), '--from',
                       str(tmp_path / 'missing')]) == 2
  assert prepare.main(['svhn', '--out', str(tmp_path / 'o')]) == 2


def test_offline_download_says_what_to_fetch(monkeypatch, capsys):
  def offline(*args, **kwargs):
    raise OSError('network is unreachable')
  monkeypatch.setattr(prepare.urllib.request, 'urlopen', offline)
  assert prepare.main(['cifar10', '--out', '/tmp/never']) == 2
  said = capsys.readouterr().err
  assert said.count('\n') == 1
  assert 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz' in said and '--from' in said
