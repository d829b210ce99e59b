"""Every family's train step, JAX (the project's) against the same model in PyTorch, one run.

  pip install -e ".[bench]"      # PyTorch, for this benchmark only
  python benchmarks/versus_pytorch.py [--only=unet:best,pixelcnn] [--steps=10] [--rounds=2]

For each family's CPU configuration (`torch_models.CONFIGS`):
- JAX: the trainer's own jitted, state-donating train step (`train.jit_train_step`) on random
  uint8 images of the config's batch shape, the batch sharded over the config's
  `cpu_devices` XLA CPU devices as the trainer runs it (`--devices=N` forces N; 0 is JAX's
  one device). It does the whole step: the augmentation, the hole, the fill, the model's
  forward and backward pass, the loss, the optimizer update.
- PyTorch: `torch_models.make_step`, the same architecture (the parameter counts are checked
  equal) and loss with Adam, on fixed model inputs prepared once (no augmentation, hole or fill:
  less work than the JAX step), `torch.set_num_threads(os.cpu_count())`.
Both are timed in this process, one after the other, `--rounds` times alternately, best
ms/step of `--steps` kept for each. `torch / jax` ≥ 1 means the JAX step is at least as fast.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from inpaintjax import parallel  # noqa: E402

MAX_DEVICES = 4
parallel.configure_cpu_devices(MAX_DEVICES)  # Before JAX starts; each family takes its share.

import jax  # noqa: E402
import torch  # noqa: E402

from families import build_step  # noqa: E402
from sampler import best_seconds  # noqa: E402
import torch_models  # noqa: E402


def jax_timer(config_path: str, devices: int):
  """(A function that runs one jitted train step of the config, its batch sharded over
  `devices` XLA devices, and waits for it; the images in that batch)."""
  step, state, batch = build_step(config_path, jax.devices()[:devices])
  key = jax.random.PRNGKey(0)
  holder = {'state': state, 'i': 0}

  def one():
    holder['i'] += 1
    holder['state'], metrics = step(holder['state'], batch, jax.random.fold_in(key, holder['i']))
    jax.block_until_ready(metrics)

  for _ in range(2):  # Compile, then the first call's allocations.
    one()
  return one, batch['image'].shape[0]


def main() -> None:
  p = argparse.ArgumentParser(description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument('--only', default='', help=f'comma-separated subset of {torch_models.FAMILIES}')
  p.add_argument('--steps', type=int, default=10)
  p.add_argument('--rounds', type=int, default=2)
  p.add_argument('--devices', type=int, default=-1,
                 help=f"XLA CPU devices for the JAX step (≤ {MAX_DEVICES}; default: the "
                      "config's cpu_devices)")
  args = p.parse_args()
  names = args.only.split(',') if args.only else list(torch_models.FAMILIES)
  unknown = sorted(set(names) - set(torch_models.FAMILIES))
  if unknown:
    p.error(f'unknown families {unknown}; known: {torch_models.FAMILIES}')
  torch.set_num_threads(os.cpu_count())
  print(f'JAX {jax.__version__} ({jax.devices()[0].platform}), '
        f'PyTorch {torch.__version__} ({torch.get_num_threads()} threads), {os.cpu_count()} '
        f'cores; best ms/step of {args.steps}, {args.rounds} alternating rounds\n')
  print('| family | config | batch | parameters | JAX devices | PyTorch ms/step | JAX ms/step | '
        'PyTorch / JAX |\n|---|---|---:|---:|---:|---:|---:|---:|')
  for name in names:
    config = torch_models.load_config(name)
    torch_step, n_params = torch_models.make_step(name, config)
    flax_params = torch_models.flax_param_count(name, config)
    if n_params != flax_params:
      raise RuntimeError(f'{name}: PyTorch model has {n_params} parameters, Flax {flax_params}.')
    torch_step()  # Warm-up (allocations, oneDNN primitive selection).
    devices = max(args.devices if args.devices >= 0 else config.cpu_devices, 1)
    jax_step, batch = jax_timer(torch_models.CONFIGS[name], devices)
    times = {'torch': float('inf'), 'jax': float('inf')}
    for _ in range(args.rounds):
      times['torch'] = min(times['torch'], 1000 * best_seconds(torch_step, args.steps))
      times['jax'] = min(times['jax'], 1000 * best_seconds(jax_step, args.steps))
    print(f'| {name} | `{torch_models.CONFIGS[name]}` | {batch} | {n_params:,} | {devices} | '
          f'{times["torch"]:.1f} | {times["jax"]:.1f} | {times["torch"] / times["jax"]:.2f} |',
          flush=True)


if __name__ == '__main__':
  main()
