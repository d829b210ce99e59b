"""Context encoders: L2, DCGAN and WGAN(-GP) training in one jitted step.

The generator (models/context_encoder.py) sees the image with its hole filled
(as in tasks/regression.py) and predicts the hole's patch — with `overlap` > 0
a patch `overlap` pixels wider on each side, whose ring of known pixels is
weighted `loss.known_weight` (default 10) in the reconstruction loss, 1 inside
the hole. The loss is L = α·L_rec + (1 − α)·L_adv (`adversary.alpha`).

`adversary.kind`:
  none     α = 1 in effect: the L2 context encoder, no critic updates.
  dcgan    a discriminator with binary cross-entropy; switches for separate real
           and fake batches, soft and noisy labels, the non-saturating G loss.
  wgan     an unbounded critic, weights clipped to ±`clip` after every update.
  wgan_gp  a critic with the gradient penalty λ·(‖∇f(x̂)‖ − 1)² instead.

One `train_step` is `n_critic` critic updates then one generator update, all
in one jitted function: the step's batch holds `n_critic + 1` batches (the task
asks the trainer for that many with `batch_multiple`), and `lax.scan` runs
the critic over the first `n_critic`, each with its own key, the generator
frozen; the generator then learns on the last one.

`flip_average` averages the inpainting with the mirrored image's, as in tasks/regression.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flax
import jax
import jax.numpy as jnp
import optax

from inpaintjax import checkpoint, losses, models
from inpaintjax.data import masks
from inpaintjax.tasks.base import Task, make_optimizer
from inpaintjax.tasks.regression import (
  add_fill,
  augmented,
  centre_crop,
  fill_hole,
  flip_averaged,
  from_model_scale,
  full_image,
  model_input,
  reconstruction_loss,
  to_model_scale,
)

KINDS = ('none', 'dcgan', 'wgan', 'wgan_gp')
# What config_check accepts for this task's config fields.
CONFIG_CHOICES = {'loss.kind': losses.LOSS_KINDS, 'adversary.kind': KINDS}
FILLS_HOLES = True  # config.hole_fill: what the generator sees in the hole.


@flax.struct.dataclass
class Player:
  """One network's parameters, batch-norm statistics and optimizer state."""
  params: Any
  batch_stats: Any
  opt_state: Any


@flax.struct.dataclass
class GanState:
  """Generator and critic; `step` counts generator updates."""
  step: jnp.ndarray
  gen: Player
  critic: Player
  fill: jnp.ndarray
  gen_apply: Callable = flax.struct.field(pytree_node=False)
  critic_apply: Callable = flax.struct.field(pytree_node=False)
  gen_tx: optax.GradientTransformation = flax.struct.field(pytree_node=False)
  critic_tx: optax.GradientTransformation = flax.struct.field(pytree_node=False)

  @property
  def params(self):
    return {'generator': self.gen.params, 'critic': self.critic.params}


# ---- Loss pieces, module-level so that a notebook can import and test them. ----

def noisy_labels(key, n: int, real: bool, soft: bool = True, real_range=(0.9, 1.1),
                 fake_range=(0.0, 0.2), flip_prob: float = 0.0) -> jnp.ndarray:
  """Discriminator targets: 1/0, or uniform in real_range/fake_range when `soft`; each label
  is swapped for one of the other class with probability `flip_prob`."""
  k_real, k_fake, k_flip = jax.random.split(key, 3)
  if soft:
    real_l = jax.random.uniform(k_real, (n,), minval=real_range[0], maxval=real_range[1])
    fake_l = jax.random.uniform(k_fake, (n,), minval=fake_range[0], maxval=fake_range[1])
  else:
    real_l, fake_l = jnp.ones((n,)), jnp.zeros((n,))
  flip = jax.random.bernoulli(k_flip, flip_prob, (n,))
  return jnp.where(flip != real, real_l, fake_l)


def dcgan_discriminator_loss(real_logits, fake_logits, real_labels, fake_labels):
  """Binary cross-entropy of the discriminator on real and fake examples (mean of the two)."""
  return 0.5 * (jnp.mean(optax.sigmoid_binary_cross_entropy(real_logits, real_labels)) +
                jnp.mean(optax.sigmoid_binary_cross_entropy(fake_logits, fake_labels)))


def dcgan_generator_loss(fake_logits, non_saturating: bool = True):
  """−log D(G(x)) (non-saturating), or log(1 − D(G(x))) (the minimax original)."""
  if non_saturating:
    return jnp.mean(jax.nn.softplus(-fake_logits))
  return -jnp.mean(jax.nn.softplus(fake_logits))


def wgan_critic_loss(real_scores, fake_scores):
  """E[f(fake)] − E[f(real)]: the critic maximises the score gap."""
  return jnp.mean(fake_scores) - jnp.mean(real_scores)


def gradient_penalty(critic_fn, real, fake, key) -> jnp.ndarray:
  """E[(‖∇f(x̂)‖₂ − 1)²] at x̂ = ε·real + (1 − ε)·fake, ε ~ U[0, 1] per example.

  `critic_fn` maps a batch to one score per example with no interaction between
  examples (no batch norm), so the gradient of the sum is each example's own.
  """
  eps = jax.random.uniform(key, (real.shape[0],) + (1,) * (real.ndim - 1))
  mixed = eps * real + (1.0 - eps) * fake
  grads = jax.grad(lambda x: jnp.sum(critic_fn(x)))(mixed)
  norms = jnp.sqrt(jnp.sum(jnp.square(grads), axis=tuple(range(1, grads.ndim))) + 1e-12)
  return jnp.mean(jnp.square(norms - 1.0))


def clip_weights(params, c: float):
  """Every critic weight clipped to [−c, c] (WGAN's Lipschitz constraint)."""
  return jax.tree.map(lambda w: jnp.clip(w, -c, c), params)


def make_task(config) -> Task:
  """The adversarial task for `config` (see configs/context_encoder.py)."""
  adv = config.adversary
  if adv.kind not in KINDS:
    raise ValueError(f'Unknown adversary.kind {adv.kind!r}; known: {KINDS}.')
  hole = masks.parse_hole(config.hole)
  n_critic = 0 if adv.kind == 'none' else adv.n_critic
  if adv.kind != 'none' and n_critic < 1:
    raise ValueError(f'adversary.n_critic must be >= 1 for {adv.kind}, got {n_critic}.')
  if adv.on not in ('patch', 'image'):
    raise ValueError(f"Unknown adversary.on {adv.on!r}; known: 'patch', 'image'.")
  patch = hole.size + 2 * config.overlap if hole.kind == 'center' else 0
  alpha = 1.0 if adv.kind == 'none' else adv.alpha
  loss_cfg, signed = config.loss, config.signed
  dtype = models.compute_dtype(config)  # The generator's and the critic's.

  def generate(state, params, x, mask, train, rng):
    """(generator output: patch or image; the filled input; new batch stats)."""
    filled = fill_hole(state.fill, x, mask, config.hole_fill)
    inputs = model_input(filled, mask, config.mask_channel)
    variables = {'params': params, 'batch_stats': state.gen.batch_stats}
    if train:
      out, new = state.gen_apply(variables, inputs, train=True, rngs={'dropout': rng},
                                 mutable=['batch_stats'])
      stats = new.get('batch_stats', {})
    else:
      out, stats = state.gen_apply(variables, inputs, train=False), state.gen.batch_stats
    return (add_fill(out, filled) if config.residual else out), filled, stats

  def critic_view(out, x, filled, mask):
    """What the critic judges: the patch, or the whole image with the output composited."""
    if adv.on == 'patch':
      return out
    return x * (1.0 - mask) + full_image(out, filled) * mask

  def real_view(x, mask):
    return centre_crop(x, patch) if (adv.on == 'patch' and patch) else x

  def criticise(state, critic_params, batch_stats, images, train):
    """Critic scores (N,) and its new batch stats."""
    variables = {'params': critic_params, 'batch_stats': batch_stats}
    if not train:
      return state.critic_apply(variables, images, train=False), batch_stats
    scores, new = state.critic_apply(variables, images, train=True, mutable=['batch_stats'])
    return scores, new.get('batch_stats', {})

  def init(rng, batch):
    k_gen, k_critic, k_mask = jax.random.split(rng, 3)
    x = to_model_scale(batch['image'][:max(batch['image'].shape[0] // (n_critic + 1), 1)],
                       signed)
    n, height, width, channels = x.shape
    gen = models.build(config.model, out_channels=channels, patch_size=patch, dtype=dtype)
    critic = models.build(config.critic, dtype=dtype)
    fill = jnp.broadcast_to(masks.fill_value(config.hole_fill, jnp.mean(x, axis=(0, 1, 2))),
                            (channels,))
    mask = masks.make_masks(hole, k_mask, n, height, width)
    filled = fill_hole(fill, x, mask, config.hole_fill)
    g_vars = gen.init({'params': k_gen}, model_input(filled, mask, config.mask_channel))
    c_vars = critic.init({'params': k_critic}, real_view(x, mask))
    gen_tx = make_optimizer(config.optim, config.num_steps)
    critic_tx = make_optimizer(config.critic_optim, config.num_steps * max(n_critic, 1))
    c_params = c_vars['params']
    if adv.kind == 'wgan':
      c_params = clip_weights(c_params, adv.clip)
    return GanState(
        step=jnp.zeros((), jnp.int32),
        gen=Player(g_vars['params'], g_vars.get('batch_stats', {}),
                   gen_tx.init(g_vars['params'])),
        critic=Player(c_params, c_vars.get('batch_stats', {}), critic_tx.init(c_params)),
        fill=fill, gen_apply=gen.apply, critic_apply=critic.apply, gen_tx=gen_tx,
        critic_tx=critic_tx)

  def critic_update(state, x, key):
    """One critic update on batch `x` with key `key`; the generator is only run, not changed."""
    k_mask, k_drop, k_real, k_fake, k_gp = jax.random.split(key, 5)
    n = x.shape[0]
    mask = masks.make_masks(hole, k_mask, *x.shape[:3])
    out, filled, _ = generate(state, state.gen.params, x, mask, True, k_drop)
    fake = jax.lax.stop_gradient(critic_view(out, x, filled, mask))
    real = real_view(x, mask)

    def loss_fn(params):
      stats = state.critic.batch_stats
      if adv.separate_batches or adv.kind != 'dcgan':
        real_s, stats = criticise(state, params, stats, real, True)
        fake_s, stats = criticise(state, params, stats, fake, True)
      else:
        both, stats = criticise(state, params, stats, jnp.concatenate([real, fake]), True)
        real_s, fake_s = both[:n], both[n:]
      if adv.kind == 'dcgan':
        labels = dict(soft=adv.soft_labels, real_range=tuple(adv.real_range),
                      fake_range=tuple(adv.fake_range), flip_prob=adv.flip_prob)
        loss = dcgan_discriminator_loss(real_s, fake_s, noisy_labels(k_real, n, True, **labels),
                                        noisy_labels(k_fake, n, False, **labels))
      else:
        loss = wgan_critic_loss(real_s, fake_s)
        if adv.kind == 'wgan_gp':
          score = lambda z: criticise(state, params, stats, z, False)[0]
          loss = loss + adv.gp_weight * gradient_penalty(score, real, fake, k_gp)
      return loss, (stats, jnp.mean(real_s) - jnp.mean(fake_s))

    (loss, (stats, gap)), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.critic.params)
    updates, opt_state = state.critic_tx.update(grads, state.critic.opt_state,
                                                state.critic.params)
    params = optax.apply_updates(state.critic.params, updates)
    if adv.kind == 'wgan':
      params = clip_weights(params, adv.clip)
    max_abs = jnp.max(jnp.stack([jnp.max(jnp.abs(w)) for w in jax.tree.leaves(params)]))
    info = {'critic_loss': loss, 'score_gap': gap, 'critic_max_abs_weight': max_abs,
            'real_mean': jnp.mean(x), 'key_data': jnp.sum(jax.random.key_data(key))}
    return state.replace(critic=Player(params, stats, opt_state)), info

  def critic_loop(state, xs, keys):
    """`critic_update` over xs (K, B, ...) and keys (K,): returns the state and stacked info."""
    # Unrolled: XLA:CPU runs a while loop's body far slower than the same ops straight-line
    # (a WGAN step at n_critic = 5: 10.8 → 4.2 s, benchmarks/train_step.py, 2 busy cores);
    # n_critic is small, so compile time stays short.
    return jax.lax.scan(lambda s, a: critic_update(s, *a), state, (xs, keys), unroll=True)

  def generator_update(state, x, key):
    k_mask, k_drop = jax.random.split(key)
    mask = masks.make_masks(hole, k_mask, *x.shape[:3])

    def loss_fn(params):
      out, filled, stats = generate(state, params, x, mask, True, k_drop)
      rec = reconstruction_loss(out, x, mask, loss_cfg.hole_weight, loss_cfg.known_weight,
                                kind=loss_cfg.kind)
      adv_loss = jnp.zeros(())
      if adv.kind != 'none':
        scores, _ = criticise(state, state.critic.params, state.critic.batch_stats,
                              critic_view(out, x, filled, mask), True)
        adv_loss = (dcgan_generator_loss(scores, adv.non_saturating) if adv.kind == 'dcgan'
                    else -jnp.mean(scores))
      return alpha * rec + (1.0 - alpha) * adv_loss, (rec, adv_loss, stats)

    (loss, (rec, adv_loss, stats)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
        state.gen.params)
    updates, opt_state = state.gen_tx.update(grads, state.gen.opt_state, state.gen.params)
    gen = Player(optax.apply_updates(state.gen.params, updates), stats, opt_state)
    return state.replace(gen=gen, step=state.step + 1), {'loss': loss, 'reconstruction': rec,
                                                          'adversarial': adv_loss}

  def train_step(state, batch, rng):
    k_aug, k_critic, k_gen = jax.random.split(rng, 3)
    x = augmented(k_aug, batch['image'], config.augment, signed)
    # Rows b·(K+1) .. b·(K+1)+K of the step's batch go to sub-batches 0..K, so each device's
    # shard holds its share of every sub-batch and the reshape moves no data between devices.
    k = n_critic + 1
    xs = x.reshape((x.shape[0] // k, k) + x.shape[1:]).swapaxes(0, 1)
    metrics = {}
    if n_critic:
      state, info = critic_loop(state, xs[:n_critic], jax.random.split(k_critic, n_critic))
      metrics = {k_: jnp.mean(v) for k_, v in info.items()
                 if k_ in ('critic_loss', 'score_gap', 'critic_max_abs_weight')}
    state, gen_metrics = generator_update(state, xs[n_critic], k_gen)
    return state, {**gen_metrics, **metrics}

  def eval_step(state, batch):
    x = to_model_scale(batch['image'], signed)
    out, _, _ = generate(state, state.gen.params, x, batch['mask'], False, None)
    return {'loss': reconstruction_loss(out, x, batch['mask'], loss_cfg.hole_weight,
                                        loss_cfg.known_weight, True, loss_cfg.kind)}

  def inpaint(state, images, mask, rng):
    del rng  # The generator is deterministic at test time.
    x = 2.0 * images - 1.0 if signed else images

    def predict(x, mask):
      out, filled, _ = generate(state, state.gen.params, x, mask, False, None)
      return full_image(out, filled)

    predict = flip_averaged(predict) if config.flip_average else predict
    return from_model_scale(predict(x, mask), signed)

  # `parts`: the pieces the tests (and a curious notebook) call on their own.
  return Task(init=init, train_step=train_step, eval_step=eval_step, inpaint=inpaint, hole=hole,
              batch_multiple=n_critic + 1, flip_averages=True,
              # A warm start takes the generator only: an L2 run's critic was never trained.
              warm_start=lambda state, source: checkpoint.copy_trained(state, source, 'gen'),
              parts=dict(critic_update=critic_update, critic_loop=critic_loop,
                         generator_update=generator_update))
