"""Times a config's jitted train step with the CPU split into 1..N XLA devices.

  python benchmarks/train_step.py --config=configs/patch_cnn.py --devices=1,2 [--steps=10]

Each device count runs in a fresh process (the device count is fixed when JAX
starts). Prints ms/step, images/s and the speed-up over one device.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time


def measure(config_path: str, steps: int, overrides: list[str]) -> dict:
  """Runs in the child process: times `steps` train steps after one warm-up step."""
  # Imported here, in the child, whose device count was fixed by its environment.
  import jax  # pylint: disable=g-import-not-at-top

  sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
  from families import build_step  # pylint: disable=g-import-not-at-top
  step, state, batch = build_step(config_path,
                                  overrides=dict(item.partition('=')[::2] for item in overrides))
  n = batch['image'].shape[0]  # A GAN step consumes n_critic + 1 batches.
  key = jax.random.PRNGKey(0)
  state, _ = step(state, batch, key)
  jax.block_until_ready(state)
  start = time.perf_counter()
  for i in range(steps):
    state, metrics = step(state, batch, jax.random.fold_in(key, i))
  jax.block_until_ready(metrics)
  seconds = (time.perf_counter() - start) / steps
  return {'devices': jax.device_count(), 'ms_per_step': 1000 * seconds,
          'images_per_s': n / seconds}


def main() -> None:
  p = argparse.ArgumentParser(description=__doc__)
  p.add_argument('--config', required=True)
  p.add_argument('--devices', default='1,2')
  p.add_argument('--steps', type=int, default=10)
  p.add_argument('--set', action='append', default=[], help='config overrides a.b=v')
  p.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
  args = p.parse_args()
  if args.child:
    print(json.dumps(measure(args.config, args.steps, args.set)))
    return
  rows = []
  for n in [int(d) for d in args.devices.split(',')]:
    env = dict(os.environ, XLA_FLAGS=f'--xla_force_host_platform_device_count={n}')
    cmd = [sys.executable, __file__, '--child', '--config', args.config, '--steps',
           str(args.steps)] + [f'--set={s}' for s in args.set]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    rows.append(json.loads(out.strip().splitlines()[-1]))
  base = rows[0]['ms_per_step']
  print(f'{args.config} {" ".join(args.set)}')
  print('| devices | ms/step | images/s | speed-up |\n|---|---|---|---|')
  for r in rows:
    print(f"| {r['devices']} | {r['ms_per_step']:.1f} | {r['images_per_s']:.1f} | "
          f"{base / r['ms_per_step']:.2f}× |")


if __name__ == '__main__':
  main()
