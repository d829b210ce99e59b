"""Where a config's train step spends its time: a `jax.profiler` trace, summed per source op.

  python benchmarks/profile_step.py --config=configs/unet.py:best [--steps=5] [--top=15]
  python benchmarks/profile_step.py --families   # the short table of every family (README)

The jitted train step (the trainer's own, on random uint8 images of the config's size) runs
`--steps` times under `jax.profiler.trace`; every XLA op event of the trace is matched to its
HLO instruction and that instruction's `op_name` metadata (the JAX call that made it, e.g.
`jvp(UNet)/Conv_3/conv_general_dilated`), and the CPU time of all threads is summed per
cleaned op name. `fwd` is the forward pass, `bwd` the gradient (JAX's transpose), `other`
everything outside differentiation (input preparation, the optimizer update). The thread
count of this CPU's XLA pool is in the header: a step's wall time is roughly the CPU time over
the threads that were busy.
"""

from __future__ import annotations

import argparse
import collections
import glob
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import jax  # noqa: E402

from families import FAMILIES, build_step  # noqa: E402

_INSTRUCTION = re.compile(r'^\s*(?:ROOT )?%?([\w.\-]+) = .*?metadata=\{op_name="([^"]+)"')


def op_names(compiled_text: str) -> dict[str, str]:
  """HLO instruction name → the `op_name` metadata of the JAX op that made it."""
  names = {}
  for line in compiled_text.splitlines():
    m = _INSTRUCTION.match(line)
    if m:
      names[m.group(1)] = m.group(2)
  return names


def clean(op_name: str) -> tuple[str, str]:
  """('fwd'|'bwd'|'other', the op path without jit/jvp/transpose wrappers)."""
  phase = 'bwd' if 'transpose(' in op_name else 'fwd' if 'jvp(' in op_name else 'other'
  path = re.sub(r'\b(jit|jvp|transpose|vmap|remat|checkpoint|pjit)\(([^()]*)\)', r'\2', op_name)
  path = re.sub(r'\b(jit|jvp|transpose|vmap)\(([^()]*)\)', r'\2', path)
  parts = [p for p in path.split('/') if p not in ('train_step', 'while', 'body', 'cond')]
  return phase, '/'.join(parts[-3:])


def profile(config_path: str, steps: int = 5):
  """({(phase, op): CPU ms per step}, wall ms per step, number of XLA threads seen)."""
  step, state, batch = build_step(config_path)
  key = jax.random.PRNGKey(0)
  names = op_names(step.lower(state, batch, key).compile().as_text())
  for i in range(3):  # Warm-up: compile, and the first calls' allocations.
    state, metrics = step(state, batch, jax.random.fold_in(key, i))
  jax.block_until_ready(metrics)
  with tempfile.TemporaryDirectory() as tmp:
    start = time.perf_counter()
    with jax.profiler.trace(tmp):
      for i in range(steps):
        state, metrics = step(state, batch, jax.random.fold_in(key, i))
      jax.block_until_ready(metrics)
    wall = (time.perf_counter() - start) / steps
    data = jax.profiler.ProfileData.from_file(glob.glob(f'{tmp}/**/*.xplane.pb',
                                                        recursive=True)[0])
    totals, threads = collections.Counter(), set()
    for plane in data.planes:
      for line in plane.lines:
        if 'XLAEigen' not in line.name:  # XLA's compute threads.
          continue
        for event in line.events:
          base = event.name.split(':')[0]
          if base in names:
            threads.add(line.name)
            totals[clean(names[base])] += event.duration_ns
  return ({k: v / 1e6 / steps for k, v in totals.items()}, 1000 * wall, len(threads))


def kind(op: str) -> str:
  """A coarse kind for the family table: convolution, matmul, pooling, scan, elementwise."""
  last = op.split('/')[-1]
  for word, name in (('conv', 'convolution'), ('dot_general', 'matmul'),
                     ('reduce_max', 'pooling'), ('max_pool', 'pooling'),
                     ('reduce_window', 'pooling'), ('select_and_scatter', 'pooling'),
                     ('while', 'loop'), ('scan', 'scan'), ('sort', 'sort')):
    if word in last:
      return name
  return 'other'


def main() -> None:
  p = argparse.ArgumentParser(description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument('--config', default='configs/unet.py:best')
  p.add_argument('--steps', type=int, default=5)
  p.add_argument('--top', type=int, default=15)
  p.add_argument('--families', action='store_true',
                 help='one line per family (families.FAMILIES)')
  args = p.parse_args()
  if args.families:
    print('| config | wall ms/step | CPU ms/step | fwd | bwd | other | top op (share of CPU) |')
    print('|---|---:|---:|---:|---:|---:|---|')
    for config_path, _ in FAMILIES.values():
      ops, wall, _ = profile(config_path, args.steps)
      total = sum(ops.values())
      phase = collections.Counter()
      for (ph, _), ms in ops.items():
        phase[ph] += ms
      (top_phase, top_op), top_ms = max(ops.items(), key=lambda kv: kv[1])
      print(f'| `{config_path}` | {wall:.1f} | {total:.1f} | {phase["fwd"]:.1f} | '
            f'{phase["bwd"]:.1f} | {phase["other"]:.1f} | {top_phase} {top_op} '
            f'({100 * top_ms / total:.0f}%) |', flush=True)
    return
  ops, wall, threads = profile(args.config, args.steps)
  total = sum(ops.values())
  print(f'{args.config}: {wall:.1f} ms/step wall, {total:.1f} ms/step CPU over {threads} XLA '
        f'threads ({jax.devices()[0].platform}, {os.cpu_count()} cores)\n')
  print('| phase | op | CPU ms/step | share |\n|---|---|---:|---:|')
  for (phase, op), ms in sorted(ops.items(), key=lambda kv: -kv[1])[:args.top]:
    print(f'| {phase} | `{op}` | {ms:.2f} | {100 * ms / total:.1f}% |')


if __name__ == '__main__':
  main()
