"""Denoising diffusion for inpainting: the forward process and a jitted reverse sampler.

Pure functions on images in [-1, 1] (no model, no training: tasks/diffusion.py wires them):
  alpha_bars(schedule, T)        ᾱ_t for t = 0..T-1 (cosine, Nichol & Dhariwal 2021; or linear)
  q_sample(x0, ᾱ, noise)         x_t = √ᾱ x0 + √(1-ᾱ) ε
  target / split_prediction      ε- or v-prediction (Salimans & Ho 2022: v = √ᾱ ε − √(1-ᾱ) x0)
  sample(...)                    the whole reverse chain as one `lax.scan`: DDIM (eta 0) to
                                 DDPM (eta 1) steps on a grid of `S` of the T timesteps, and
                                 RePaint's resampling (Lugmayr et al., 2022): after every
                                 `jump_length` steps down, noise back up and redo them,
                                 `jump_n_sample - 1` times.

The reverse chain runs over *levels* L = S (pure noise) .. 0 (clean): level L ≥ 1 is timestep
`grid[L - 1]`, level 0 has ᾱ = 1. A path is a list of (L_from, L_to) moves: down one level (a
model call) or, for RePaint, up one (forward noise, no model call). Noise is drawn from one
key per image, folded with the move's index: an image's samples depend on its own key only.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

SCHEDULES = ('cosine', 'linear')
PREDICTIONS = ('eps', 'v')


def alpha_bars(schedule: str, timesteps: int) -> np.ndarray:
  """ᾱ_t = ∏_{s≤t} (1 − β_s) for t = 0..T-1, float32, strictly decreasing in (0, 1)."""
  t = np.arange(timesteps + 1, dtype=np.float64)
  if schedule == 'cosine':
    s = 0.008
    f = np.cos((t / timesteps + s) / (1 + s) * np.pi / 2) ** 2
    betas = np.clip(1 - f[1:] / f[:-1], 0.0, 0.999)
  elif schedule == 'linear':
    scale = 1000.0 / timesteps  # Ho et al.'s 1e-4..0.02 for T = 1,000, scaled for other T.
    betas = np.linspace(1e-4 * scale, min(0.02 * scale, 0.999), timesteps)
  else:
    raise ValueError(f'Unknown diffusion schedule {schedule!r}; known: {SCHEDULES}.')
  return np.cumprod(1.0 - betas).astype(np.float32)


def _bcast(a: jnp.ndarray, x: jnp.ndarray) -> jnp.ndarray:
  """A per-image (N,) or scalar value shaped to broadcast against NHWC `x`."""
  a = jnp.asarray(a, x.dtype)
  return a.reshape(a.shape + (1,) * (x.ndim - a.ndim)) if a.ndim else a


def q_sample(x0: jnp.ndarray, abar: jnp.ndarray, noise: jnp.ndarray) -> jnp.ndarray:
  """A draw of x_t ~ q(x_t | x_0) = N(√ᾱ x0, (1 − ᾱ) I) with the given standard noise."""
  a = _bcast(abar, x0)
  return jnp.sqrt(a) * x0 + jnp.sqrt(1 - a) * noise


def target(prediction: str, x0: jnp.ndarray, noise: jnp.ndarray, abar) -> jnp.ndarray:
  """What the net learns to output: the noise ε, or the velocity v = √ᾱ ε − √(1−ᾱ) x0."""
  if prediction == 'eps':
    return noise
  if prediction == 'v':
    a = _bcast(abar, x0)
    return jnp.sqrt(a) * noise - jnp.sqrt(1 - a) * x0
  raise ValueError(f'Unknown diffusion prediction {prediction!r}; known: {PREDICTIONS}.')


def split_prediction(prediction: str, out: jnp.ndarray, x_t: jnp.ndarray, abar):
  """The net's output at x_t → (x0 estimate, ε estimate)."""
  a = _bcast(abar, x_t)
  if prediction == 'eps':
    return (x_t - jnp.sqrt(1 - a) * out) / jnp.sqrt(a), out
  if prediction == 'v':
    return jnp.sqrt(a) * x_t - jnp.sqrt(1 - a) * out, jnp.sqrt(1 - a) * x_t + jnp.sqrt(a) * out
  raise ValueError(f'Unknown diffusion prediction {prediction!r}; known: {PREDICTIONS}.')


def time_grid(timesteps: int, steps: int) -> np.ndarray:
  """The `steps` timesteps the sampler visits, ascending: grid[L - 1] is level L's."""
  if not 1 <= steps <= timesteps:
    raise ValueError(f'diffusion.sample_steps must be in 1..{timesteps} (timesteps), got {steps}.')
  if steps == 1:
    return np.array([timesteps - 1], np.int32)  # One step: from the noisiest timestep.
  # Spacing (T-1)/(S-1) ≥ 1: the rounded timesteps are distinct.
  return np.round(np.linspace(0, timesteps - 1, steps)).astype(np.int32)


def plain_path(steps: int) -> list[tuple[int, int]]:
  """Straight down: (S, S-1), ..., (1, 0)."""
  return [(level, level - 1) for level in range(steps, 0, -1)]


def repaint_path(steps: int, jump_length: int, jump_n_sample: int) -> list[tuple[int, int]]:
  """RePaint's schedule: down, and at every `jump_length`-th level above the last jump back up
  `jump_length` levels, `jump_n_sample - 1` times (1 = no resampling: the plain path)."""
  if jump_length < 1 or jump_n_sample < 1:
    raise ValueError('diffusion.jump_length and jump_n_sample must be ≥ 1, got '
                     f'{jump_length} and {jump_n_sample}.')
  jumps = {level: jump_n_sample - 1 for level in range(jump_length, steps, jump_length)}
  path, level = [], steps
  while level > 0:
    path.append((level, level - 1))
    level -= 1
    if jumps.get(level, 0) > 0:
      jumps[level] -= 1
      for _ in range(jump_length):
        path.append((level, level + 1))
        level += 1
  return path


def sample(predict: Callable, x_known: jnp.ndarray, mask: jnp.ndarray, keys: jnp.ndarray,
           abar: np.ndarray, grid: np.ndarray, path: list[tuple[int, int]], prediction: str,
           eta: float = 0.0, repaint: bool = False, temperature: float = 1.0) -> jnp.ndarray:
  """Runs the reverse chain along `path`; returns images with every known pixel of `x_known`.

  predict(x_t, t) → the net's output for the (N, H, W, C) state at the (N,) timesteps t.
  The hole (mask 1) starts as noise. Each step down estimates x0 (clipped to [-1, 1]) and
  takes the DDIM step with σ = eta·√((1−ᾱ_to)/(1−ᾱ_from))·√(1−ᾱ_from/ᾱ_to), its fresh noise
  scaled by `temperature` (1: the sampler as derived; below 1 each step adds less noise than
  the chain expects, so the samples are smoother and closer to each other). The known pixels
  of the state are the clean `x_known` (a conditional net reads them as they are) or, with
  `repaint`, `x_known` noised to the level reached (an unconditional prior sees a consistent
  noisy image). `keys`: (N, 2), one PRNG key per image.
  """
  levels_abar = jnp.asarray(np.concatenate([[1.0], abar[grid]]), jnp.float32)
  levels_t = jnp.asarray(np.concatenate([[0], grid]), jnp.float32)
  hole = mask > 0

  def noise(i, salt):
    draw = lambda k: jax.random.normal(jax.random.fold_in(jax.random.fold_in(k, i), salt),
                                       x_known.shape[1:], x_known.dtype)
    return jax.vmap(draw)(keys)

  def known_at(level_abar, z):
    return q_sample(x_known, level_abar, z) if repaint else x_known

  top = levels_abar[len(grid)]
  start = len(path)  # The initial draw's index: after every move's.
  x = jnp.where(hole, noise(start, 0), known_at(top, noise(start, 1)))
  moves = jnp.asarray(path, jnp.int32)

  def down(x, i, a_from, a_to, t):
    out = predict(x, jnp.full((x.shape[0],), t))
    x0, _ = split_prediction(prediction, out, x, a_from)
    x0 = jnp.clip(x0, -1.0, 1.0)
    eps = (x - jnp.sqrt(a_from) * x0) / jnp.sqrt(1 - a_from)  # Consistent with the clipped x0.
    sigma = eta * jnp.sqrt((1 - a_to) / (1 - a_from)) * jnp.sqrt(1 - a_from / a_to)
    x_new = (jnp.sqrt(a_to) * x0 + jnp.sqrt(jnp.maximum(1 - a_to - sigma ** 2, 0.0)) * eps
             + temperature * sigma * noise(i, 0))
    return jnp.where(hole, x_new, known_at(a_to, noise(i, 1)))

  def up(x, i, a_from, a_to, t):
    del t
    ratio = a_to / a_from  # q(x_to | x_from): one forward step of the chain, the whole image.
    return jnp.sqrt(ratio) * x + jnp.sqrt(1 - ratio) * noise(i, 2)

  def step(x, move):
    i, (l_from, l_to) = move
    a_from, a_to = levels_abar[l_from], levels_abar[l_to]
    x = jax.lax.cond(l_to < l_from, down, up, x, i, a_from, a_to, levels_t[l_from])
    return x, None

  x, _ = jax.lax.scan(step, x, (jnp.arange(len(path)), moves))
  return jnp.where(hole, x, x_known)
