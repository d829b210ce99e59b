"""Datasets: npz files, the embedded photos, splits, fallback and clear errors (data/sources.py)."""

import numpy as np
import pytest

from inpaintjax import config_base
from inpaintjax.data import pipeline, sources


def data_cfg(**kw):
  c = config_base.base_config().data
  c.update(kw)
  return c


@pytest.fixture
def npz_file(tmp_path):
  rng = np.random.default_rng(0)
  path = tmp_path / 'tiny.npz'
  np.savez(path, images=rng.integers(0, 256, (50, 8, 8, 3), dtype=np.uint8),
           labels=np.arange(50) % 10)
  return str(path)


def test_npz_rows(npz_file):
  full = sources.load_npz(npz_file)
  tail = sources.load_npz(f'{npz_file}@-10:')
  np.testing.assert_array_equal(tail.images, full.images[40:])
  np.testing.assert_array_equal(tail.labels, full.labels[40:])
  assert len(sources.load_npz(f'{npz_file}@:5')) == 5 and len(sources.load_npz(f'{npz_file}@5:7')) == 2
  with pytest.raises(sources.DataError, match='rows must be @A:B'):
    sources.load_npz(f'{npz_file}@five')
  with pytest.raises(sources.DataError, match='is empty'):
    sources.load_npz(f'{npz_file}@60:')


def test_npz_with_holdout(npz_file):
  cfg = data_cfg(name=f'npz:{npz_file}', holdout=0.2, eval_limit=0)
  train, evals = sources.load_split(cfg, 'train'), sources.load_split(cfg, 'eval')
  assert len(train) == 40 and len(evals) == 10
  full = sources.load_npz(npz_file)
  np.testing.assert_array_equal(evals.images, full.images[40:])
  np.testing.assert_array_equal(train.labels, full.labels[:40])


def test_npz_grey_without_channel_axis(tmp_path):
  path = tmp_path / 'grey.npz'
  np.savez(path, images=np.zeros((4, 28, 28), np.uint8))
  ds = sources.load_npz(str(path))
  assert ds.images.shape == (4, 28, 28, 1) and ds.labels is None
  rgb = sources.load_split(data_cfg(name=f'npz:{path}', channels=3), 'train')
  assert rgb.images.shape == (4, 28, 28, 3)


def test_npz_errors(tmp_path):
  with pytest.raises(FileNotFoundError, match='not found'):
    sources.load_npz(str(tmp_path / 'missing.npz'))
  bad = tmp_path / 'corrupt.npz'
  bad.write_bytes(b'PK\x03\x04 this is not a zip file')
  with pytest.raises(ValueError, match='not a readable npz'):
    sources.load_npz(str(bad))
  np.savez(tmp_path / 'floats.npz', images=np.zeros((2, 4, 4, 3), np.float32))
  with pytest.raises(ValueError, match='uint8'):
    sources.load_npz(str(tmp_path / 'floats.npz'))
  np.savez(tmp_path / 'rank.npz', images=np.zeros((2, 4), np.uint8))
  with pytest.raises(ValueError, match='N×H×W×C'):
    sources.load_npz(str(tmp_path / 'rank.npz'))
  np.savez(tmp_path / 'nokey.npz', x=np.zeros((2, 4, 4, 3), np.uint8))
  with pytest.raises(ValueError, match='no `images`'):
    sources.load_npz(str(tmp_path / 'nokey.npz'))


def test_embedded_is_deterministic_and_split_by_photo():
  a = sources.embedded('train', 16, 3, 64)
  b = sources.embedded.__wrapped__('train', 16, 3, 64)  # Bypass the cache.
  np.testing.assert_array_equal(a.images, b.images)
  assert a.images.shape == (64, 16, 16, 3) and a.images.dtype == np.uint8
  test = sources.embedded('test', 16, 3, 64)
  # Labels are zoom levels, shared by the train and the test photos.
  assert set(a.labels.tolist()) == set(test.labels.tolist()) == {0, 1, 2, 3}
  assert not np.array_equal(a.images[:8], test.images[:8])
  grey = sources.embedded('train', 28, 1, 32)
  assert grey.images.shape == (32, 28, 28, 1)
  assert a.images.std() > 20  # Real photo content, not a constant.


def test_unknown_dataset_name_is_a_clear_error():
  with pytest.raises(ValueError, match='Unknown dataset name'):
    sources.load_split(data_cfg(name='no_such_dataset_xyz'), 'train')


def test_unprepared_tfds_falls_back_loudly(caplog, tmp_path):
  cfg = data_cfg(name='mnist', data_dir=str(tmp_path), embedded_size=64, channels=1,
                 image_size=28)
  ds = sources.load_split(cfg, 'train')
  assert ds.name == 'embedded:train' and ds.images.shape[1:] == (28, 28, 1)
  assert 'FALLING BACK' in caplog.text
  cfg.fallback = ''
  with pytest.raises(sources.DatasetUnavailableError, match='not prepared') as caught:
    sources.load_split(cfg, 'train')
  said = str(caught.value)  # What is missing and both ways to get it, not TFDS's own message.
  assert 'python -m inpaintjax.data.prepare mnist --out=data' in said
  assert 'tfds build mnist --file_format=array_record' in said and 'TFRECORD' not in said


def test_data_order_is_a_function_of_seed_and_step(npz_file):
  ds = sources.load_npz(npz_file)
  order = pipeline.EpochOrder(len(ds), seed=7)
  first = [pipeline.batch_at(ds, order, s, 16)['label'] for s in range(10)]
  again = [pipeline.batch_at(ds, pipeline.EpochOrder(len(ds), 7), s, 16)['label']
           for s in (9, 3, 0)]
  for got, s in zip(again, (9, 3, 0)):
    np.testing.assert_array_equal(got, first[s])
  # Each epoch is a permutation: the first 48 positions hold distinct rows.
  rows = pipeline.EpochOrder(50, 7).rows(0, 50)
  assert sorted(rows) == list(range(50))
  # Two processes split a global batch without overlap.
  p0 = pipeline.batch_at(ds, order, 2, 16, 0, 2)['image']
  p1 = pipeline.batch_at(ds, order, 2, 16, 1, 2)['image']
  np.testing.assert_array_equal(np.concatenate([p0, p1]),
                                pipeline.batch_at(ds, order, 2, 16)['image'])


def test_eval_batches_pad_and_keep_every_image():
  images = np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1)
  seen = []
  for batch, n_valid in pipeline.eval_batches(images, 4):
    assert batch['image'].shape[0] == 4
    seen.extend(batch['image'][:n_valid, 0, 0, 0].tolist())
  assert seen == list(range(10))


def test_datasets_joined_with_plus_are_concatenated_in_order(tmp_path):
  a, b = tmp_path / 'a.npz', tmp_path / 'b.npz'
  np.savez(a, images=np.zeros((3, 4, 4, 1), np.uint8), labels=np.arange(3))
  np.savez(b, images=np.ones((2, 4, 4, 1), np.uint8), labels=np.arange(2) + 7)
  cfg = config_base.base_config().data
  cfg.update(name=f'npz:{a}+npz:{b}', channels=0, holdout=0.4)
  train, held = sources.load_split(cfg, 'train'), sources.load_split(cfg, 'eval')
  assert len(train) == 3 and len(held) == 2
  np.testing.assert_array_equal(held.labels, [7, 8])  # The holdout is the last file's tail.
  np.savez(tmp_path / 'c.npz', images=np.zeros((2, 5, 5, 1), np.uint8))
  cfg.name = f'npz:{a}+npz:{tmp_path / "c.npz"}'
  with pytest.raises(ValueError, match='same image shape'):
    sources.load_split(cfg, 'train')
