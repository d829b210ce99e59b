"""Times every family's train step at an earlier commit and at this tree, in one run.

  python benchmarks/old_vs_new.py --base=1ecda2b [--only=unet:best,pixelcnn] [--steps=10]

The earlier commit is checked out into a temporary git worktree; for each family, its own
`benchmarks/train_step.py --child` (one XLA CPU device, as the configs run by default) and this
tree's are run one after the other in fresh processes on the same random batch shape, `--rounds`
times alternately, and the best ms/step of each is kept. Prints a markdown table with the
speed-up (old ms / new ms). Needs git and the repository's history.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from families import FAMILIES  # noqa: E402  (name: (config, sampler))


def time_step(tree: str, config: str, steps: int) -> float:
  """ms/step of `config`'s train step with the code of `tree` (a fresh process)."""
  env = dict(os.environ, PYTHONPATH=tree,
             XLA_FLAGS='--xla_force_host_platform_device_count=1')
  cmd = [sys.executable, os.path.join(tree, 'benchmarks', 'train_step.py'), '--child',
         '--config', os.path.join(tree, config), '--steps', str(steps)]
  out = subprocess.run(cmd, env=env, cwd=tree, capture_output=True, text=True, check=True)
  return json.loads(out.stdout.strip().splitlines()[-1])['ms_per_step']


def main() -> None:
  p = argparse.ArgumentParser(description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument('--base', required=True, help='the earlier commit (any git revision)')
  p.add_argument('--only', default='', help=f'comma-separated subset of {list(FAMILIES)}')
  p.add_argument('--steps', type=int, default=10)
  p.add_argument('--rounds', type=int, default=2)
  args = p.parse_args()
  names = args.only.split(',') if args.only else list(FAMILIES)
  unknown = sorted(set(names) - set(FAMILIES))
  if unknown:
    p.error(f'unknown families {unknown}; known: {list(FAMILIES)}')
  rev = subprocess.run(['git', 'rev-parse', '--short', args.base], cwd=ROOT, check=True,
                       capture_output=True, text=True).stdout.strip()
  with tempfile.TemporaryDirectory() as tmp:
    old = os.path.join(tmp, 'old')
    subprocess.run(['git', 'worktree', 'add', '--detach', '-q', old, rev], cwd=ROOT, check=True)
    try:
      print(f'train step ms/step, best of {args.rounds} alternating rounds of {args.steps} '
            f'steps; old = {rev}, new = this tree\n')
      print('| family | config | old ms/step | new ms/step | speed-up |\n|---|---|---:|---:|---:|')
      for name in names:
        best = {old: float('inf'), ROOT: float('inf')}
        for _ in range(args.rounds):
          for tree in best:
            best[tree] = min(best[tree], time_step(tree, FAMILIES[name][0], args.steps))
        print(f'| {name} | `{FAMILIES[name][0]}` | {best[old]:.1f} | {best[ROOT]:.1f} | '
              f'{best[old] / best[ROOT]:.2f}× |', flush=True)
    finally:
      subprocess.run(['git', 'worktree', 'remove', '--force', old], cwd=ROOT, check=False)


if __name__ == '__main__':
  main()
