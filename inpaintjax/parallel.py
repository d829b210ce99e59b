"""Devices and shardings: a 1-D `data` mesh over every device, batch sharded, params replicated.

On a CPU host, XLA can present the cores as several devices
(`config.cpu_devices`). Sharding the batch over them runs the per-device parts
of a step in parallel, which helps narrow models that a single device leaves
under-threaded; wide models already use every core and gain nothing. This must
be decided before JAX creates its backend, so `configure_cpu_devices` runs
first thing in `main`.
"""

from __future__ import annotations

import os

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from inpaintjax.errors import ConfigError


def configure_cpu_devices(count: int) -> None:
  """Splits the CPU into `count` XLA devices (0 = leave JAX's default). Call before JAX starts."""
  if count <= 0:
    return
  if jax._src.xla_bridge.backends_are_initialized():  # pylint: disable=protected-access
    if jax.default_backend() == 'cpu' and jax.device_count() != count:
      raise RuntimeError(f'cpu_devices={count} requested after JAX started with '
                         f'{jax.device_count()} devices; set it before any JAX computation.')
    return
  if 'xla_force_host_platform_device_count' in os.environ.get('XLA_FLAGS', ''):
    return  # An explicit XLA_FLAGS (tests, users) wins.
  jax.config.update('jax_num_cpu_devices', count)


def maybe_initialize_distributed(enabled: bool) -> None:
  """Joins a multi-process run when the launcher asks for it (TPU pods, SLURM, by hand).

  On a TPU VM or under SLURM, JAX finds the coordinator, the process count and this process's
  index itself. Elsewhere (several processes on one machine, a cluster JAX does not know) the
  launcher sets JAX_COORDINATOR_ADDRESS (host:port), JAX_NUM_PROCESSES and JAX_PROCESS_ID.
  """
  if not enabled:
    return
  count, index = os.environ.get('JAX_NUM_PROCESSES'), os.environ.get('JAX_PROCESS_ID')
  if (count is None) != (index is None):
    raise ValueError('Set both JAX_NUM_PROCESSES and JAX_PROCESS_ID, or neither.')
  if count is None:
    jax.distributed.initialize()
  else:
    jax.distributed.initialize(num_processes=int(count), process_id=int(index))


def make_mesh(devices=None) -> Mesh:
  """A 1-D mesh named `data` over `devices` (default: all devices of all processes)."""
  return Mesh(jax.devices() if devices is None else devices, ('data',))


def batch_sharding(mesh: Mesh) -> NamedSharding:
  """Leading (batch) axis split over `data`."""
  return NamedSharding(mesh, PartitionSpec('data'))


def replicated(mesh: Mesh) -> NamedSharding:
  """Fully replicated over the mesh."""
  return NamedSharding(mesh, PartitionSpec())


def from_global(array, sharding):
  """A host array that every process holds whole (an evaluation batch) as a sharded jax.Array.

  jit refuses numpy inputs with a sharding that spans other processes' devices; each process
  here supplies the slices of its own devices.
  """
  array = np.asarray(array)
  return jax.make_array_from_callback(array.shape, sharding, lambda index: array[index])


def check_batch_size(batch_size: int) -> None:
  """The global batch must split evenly over devices and processes."""
  if batch_size % jax.device_count():
    raise ConfigError(f'batch_size={batch_size} is not divisible by the {jax.device_count()} '
                      'devices it is sharded over: make it a multiple.')
