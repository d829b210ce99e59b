"""Orbax checkpoints in WORKDIR/checkpoints: async saves, keep N, resume the whole state,
past a damaged newest step.

The saved state holds parameters, optimizer state and the step; the RNG and the
data position are functions of (seed, step), so the step is all a resume needs
to continue exactly where the run stopped.
"""

from __future__ import annotations

import logging
import os
import shutil
import time

import jax
import orbax.checkpoint as ocp

from inpaintjax.errors import RunError


def is_trained(path) -> bool:
  """A state leaf that training learns: under a `params` or `batch_stats` attribute, not inside
  optimizer state (what a warm start copies and a moving average averages)."""
  names = [k.name for k in path if isinstance(k, jax.tree_util.GetAttrKey)]
  return bool({'params', 'batch_stats'} & set(names)) and 'opt_state' not in names


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
    found = src.get(path)
    if (not is_trained(path) or (within and names[:1] != [within]) or found is None
        or found.shape != leaf.shape or found.dtype != leaf.dtype):
      return leaf
    copied += 1
    return found

  return jax.tree_util.tree_map_with_path(pick, target), copied


class Checkpointer:
  """A thin wrapper around `ocp.CheckpointManager` for one training state.

  Orbax writes each step into a temporary folder and renames it when complete, so a step that
  `all_steps` lists is a finished one; the trainer (not a reader) also deletes the temporary
  folders that a kill left behind. `restore` goes back past damaged steps (see there).
  """

  def __init__(self, workdir: str, keep: int = 3, read_only: bool = False):
    self.workdir = os.path.abspath(workdir)
    self.directory = os.path.join(self.workdir, 'checkpoints')
    self.aside = os.path.join(self.workdir, 'damaged_checkpoints')
    self._options = ocp.CheckpointManagerOptions(
        max_to_keep=keep, create=not read_only, read_only=read_only,
        cleanup_tmp_directories=not read_only)
    self.manager = ocp.CheckpointManager(self.directory, options=self._options)

  def latest_step(self) -> int | None:
    """The newest saved step, or None."""
    return self.manager.latest_step()

  def _move_aside(self, step: int) -> str:
    """Moves a damaged step's folder to damaged_checkpoints/ (kept for a post-mortem)."""
    source = os.path.join(self.directory, str(step))
    target = os.path.join(self.aside, str(step))
    if jax.process_index() == 0 and os.path.exists(source):
      os.makedirs(self.aside, exist_ok=True)
      if os.path.exists(target):
        target += f'.{int(time.time())}'
      shutil.move(source, target)
    # The manager caches the step list: reopen it on what is left.
    self.manager.close()
    self.manager = ocp.CheckpointManager(self.directory, options=self._options)
    return target

  def restore(self, state, step: int | None = None, move_aside: bool = True):
    """`state` with every array replaced by the checkpoint's (same structure and sharding).

    Without `step`: the newest checkpoint that can be restored. A newer one that cannot is
    reported (which step, why) and, with `move_aside` and once an older one has restored,
    moved to WORKDIR/damaged_checkpoints. If none can be restored, nothing is moved (the
    checkpoints may be intact but of another model) and one RunError says why.
    """
    steps = [step] if step is not None else sorted(self.manager.all_steps(), reverse=True)
    if not steps:
      raise FileNotFoundError(f'No checkpoint in {self.directory}.')
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, state)
    failed = []
    for s in steps:
      try:
        restored = self.manager.restore(s, args=ocp.args.StandardRestore(abstract))
      except Exception as e:  # pylint: disable=broad-except
        # Anything can come out of a damaged file (JSON, tensorstore, shape errors).
        reason = f'{type(e).__name__}: {str(e).splitlines()[0][:300] if str(e) else ""}'
        logging.error('CHECKPOINT %d IN %s CANNOT BE RESTORED (%s); trying an older one.',
                      s, self.directory, reason)
        failed.append((s, reason))
        continue
      for bad, reason in failed:
        where = self._move_aside(bad) if move_aside else os.path.join(self.directory, str(bad))
        logging.error('Restored step %d instead of the damaged step %d (%s), which is at %s.',
                      s, bad, reason, where)
      return restored
    said = '; '.join(f'step {s}: {r}' for s, r in failed)
    raise RunError(f'No checkpoint in {self.directory} can be restored (damaged, or saved by '
                   f'a different model or config?): {said}')

  def save(self, step: int, state, force: bool = False) -> None:
    """Starts an asynchronous save of `state` at `step`."""
    try:
      self.manager.save(step, args=ocp.args.StandardSave(state), force=force)
    except OSError as e:
      raise RunError(f'Cannot save checkpoint {step} in {self.directory}: '
                     f'{e.strerror or e} (is the disk full?).') from e

  def wait(self) -> None:
    """Blocks until pending saves are on disk."""
    self.manager.wait_until_finished()

  def close(self) -> None:
    """Waits for pending saves and releases the manager."""
    self.manager.wait_until_finished()
    self.manager.close()
