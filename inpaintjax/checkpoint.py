"""Orbax checkpoints in WORKDIR/checkpoints: async saves, keep N, resume the whole state.

The saved state holds parameters, optimizer state and the step; the RNG and the
data position are functions of (seed, step), so the step is all a resume needs
to continue exactly where the run stopped.
"""

from __future__ import annotations

import os

import jax
import orbax.checkpoint as ocp


def copy_trained(target, source, within: str = ''):
  """`target` with each parameter and batch-norm statistic taken from `source` where both have
  it under the same path, shape and dtype; returns (new target, number of arrays copied).

  Optimizer state and the step stay `target`'s: a warm start trains afresh from the copied
  weights. `within` limits the copy to one attribute of the state (e.g. 'gen', a GAN's
  generator).
  """
  src = dict(jax.tree_util.tree_flatten_with_path(source)[0])
  copied = 0

  def pick(path, leaf):
    nonlocal copied
    names = [k.name for k in path if isinstance(k, jax.tree_util.GetAttrKey)]
    trained = bool({'params', 'batch_stats'} & set(names)) and 'opt_state' not in names
    found = src.get(path)
    if (not trained or (within and names[:1] != [within]) or found is None
        or found.shape != leaf.shape or found.dtype != leaf.dtype):
      return leaf
    copied += 1
    return found

  return jax.tree_util.tree_map_with_path(pick, target), copied


class Checkpointer:
  """A thin wrapper around `ocp.CheckpointManager` for one training state."""

  def __init__(self, workdir: str, keep: int = 3):
    self.directory = os.path.join(os.path.abspath(workdir), 'checkpoints')
    self.manager = ocp.CheckpointManager(
        self.directory, options=ocp.CheckpointManagerOptions(max_to_keep=keep, create=True))

  def latest_step(self) -> int | None:
    """The newest saved step, or None."""
    return self.manager.latest_step()

  def restore(self, state, step: int | None = None):
    """`state` with every array replaced by the checkpoint's (same structure and sharding)."""
    step = self.latest_step() if step is None else step
    if step is None:
      raise FileNotFoundError(f'No checkpoint in {self.directory}.')
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, state)
    try:
      return self.manager.restore(step, args=ocp.args.StandardRestore(abstract))
    except Exception as e:  # pylint: disable=broad-except
      raise RuntimeError(f'Checkpoint {step} in {self.directory} could not be restored '
                         f'(corrupt, or saved by a different config?): {e}') from e

  def save(self, step: int, state, force: bool = False) -> None:
    """Starts an asynchronous save of `state` at `step`."""
    self.manager.save(step, args=ocp.args.StandardSave(state), force=force)

  def wait(self) -> None:
    """Blocks until pending saves are on disk."""
    self.manager.wait_until_finished()

  def close(self) -> None:
    """Waits for pending saves and releases the manager."""
    self.manager.wait_until_finished()
    self.manager.close()
