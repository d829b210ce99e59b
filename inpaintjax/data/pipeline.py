"""Shuffle, batch, shard over devices, prefetch.

Data order is a pure function of (seed, step): batch `s` holds positions
`s*B .. s*B+B-1` of an endless stream made of one seeded permutation per epoch.
A resumed run therefore sees exactly the batches it would have seen, and in a
multi-process run each process reads only its own rows of every global batch.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

import jax
import numpy as np

from inpaintjax.data.sources import Dataset


class EpochOrder:
  """Maps stream positions to dataset rows: one seeded permutation per epoch."""

  def __init__(self, size: int, seed: int):
    self.size, self.seed = size, seed
    self._epoch, self._perm = -1, None

  def _permutation(self, epoch: int) -> np.ndarray:
    if epoch != self._epoch:
      self._epoch = epoch
      self._perm = np.random.default_rng([self.seed, epoch]).permutation(self.size)
    return self._perm

  def rows(self, start: int, count: int) -> np.ndarray:
    """Dataset rows for stream positions start..start+count-1."""
    positions = np.arange(start, start + count)
    out = np.empty(count, np.int64)
    for epoch in np.unique(positions // self.size):
      sel = positions // self.size == epoch
      out[sel] = self._permutation(int(epoch))[positions[sel] % self.size]
    return out


def batch_at(ds: Dataset, order: EpochOrder, step: int, batch_size: int,
             process_index: int = 0, process_count: int = 1) -> dict[str, np.ndarray]:
  """This process's rows of global batch `step`, as numpy."""
  local = batch_size // process_count
  rows = order.rows(step * batch_size + process_index * local, local)
  batch = {'image': ds.images[rows]}
  if ds.labels is not None:
    batch['label'] = ds.labels[rows]
  return batch


def to_global(batch: dict[str, np.ndarray], sharding) -> dict[str, jax.Array]:
  """Assembles process-local numpy rows into arrays sharded over the mesh."""
  return {k: jax.make_array_from_process_local_data(sharding, v) for k, v in batch.items()}


def train_batches(ds: Dataset, batch_size: int, seed: int, start_step: int, sharding,
                  prefetch: int = 2) -> Iterator[dict[str, jax.Array]]:
  """Endless sharded batches from `start_step` on, prepared `prefetch` ahead in a thread."""
  if batch_size > len(ds):
    raise ValueError(f'batch_size {batch_size} exceeds the {len(ds)} training images.')
  order = EpochOrder(len(ds), seed)
  pi, pc = jax.process_index(), jax.process_count()
  buffer: queue.Queue = queue.Queue(maxsize=max(1, prefetch))
  stop = threading.Event()

  def produce():
    step = start_step
    while not stop.is_set():
      item = to_global(batch_at(ds, order, step, batch_size, pi, pc), sharding)
      while not stop.is_set():
        try:
          buffer.put(item, timeout=0.1)
          break
        except queue.Full:
          continue
      step += 1

  thread = threading.Thread(target=produce, daemon=True)
  thread.start()
  try:
    while True:
      yield buffer.get()
  finally:
    # Join the producer: a thread still inside JAX when the interpreter exits aborts it.
    stop.set()
    thread.join()


def eval_batches(images: np.ndarray, batch_size: int, extras: dict[str, np.ndarray] | None = None
                 ) -> Iterator[tuple[dict[str, np.ndarray], int]]:
  """Every image once, in order: (batch, n_valid). The last batch is padded, not dropped.

  Padding keeps one compiled shape; callers drop the padded rows by `n_valid`.
  """
  extras = extras or {}
  for start in range(0, len(images), batch_size):
    n_valid = min(batch_size, len(images) - start)
    batch = {'image': images[start:start + batch_size]}
    batch.update({k: v[start:start + batch_size] for k, v in extras.items()})
    if n_valid < batch_size:
      batch = {k: np.concatenate([v, np.repeat(v[-1:], batch_size - n_valid, axis=0)])
               for k, v in batch.items()}
    yield batch, n_valid
