"""The evaluation classifier: softmax cross-entropy on clean labelled images.

It judges other models: a corrector is as good as the accuracy it gives back
to this classifier on repaired images (inpaintjax.classifier_test). Inputs are
images in [0, 1]; `config.augment` applies as for every task (off by default:
the classifier learns clean digits, in their one orientation).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax.training import train_state

from inpaintjax import losses, models
from inpaintjax.tasks.base import Task, make_optimizer
from inpaintjax.tasks.regression import augmented, to_model_scale


def accuracy(logits: jnp.ndarray, labels: jnp.ndarray) -> jnp.ndarray:
  """Fraction of examples whose arg-max class is the label (a scalar)."""
  return jnp.mean(jnp.argmax(logits, -1) == labels)


def make_task(config) -> Task:
  """The classification task for `config` (see configs/classifier.py)."""
  num_classes = config.model.num_classes
  dtype = models.compute_dtype(config)

  def apply(state, params, images01, train, rng=None):
    return state.apply_fn({'params': params}, images01, train=train,
                          rngs={'dropout': rng} if train else {})

  def init(rng, batch):
    model = models.build(config.model, dtype=dtype)
    x = to_model_scale(batch['image'], signed=False)
    params = model.init({'params': rng}, x)['params']
    return train_state.TrainState.create(apply_fn=model.apply, params=params,
                                         tx=make_optimizer(config.optim, config.num_steps))

  def train_step(state, batch, rng):
    k_aug, k_drop = jax.random.split(rng)
    x = augmented(k_aug, batch['image'], config.augment, signed=False)

    def loss_fn(params):
      logits = apply(state, params, x, True, k_drop)
      return jnp.mean(losses.softmax_cross_entropy(logits, batch['label'])), logits

    (loss, logits), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
    return state.apply_gradients(grads=grads), {'loss': loss,
                                                'accuracy': accuracy(logits, batch['label'])}

  def eval_step(state, batch):
    logits = apply(state, state.params, to_model_scale(batch['image'], signed=False), False)
    return {'loss': losses.softmax_cross_entropy(logits, batch['label']),
            'accuracy': (jnp.argmax(logits, -1) == batch['label']).astype(jnp.float32)}

  def predict(state, images01):
    return apply(state, state.params, images01, False)

  def check_data(ds):
    if ds.labels is None:
      raise ValueError(f'The classifier needs labels; {ds.name} has none.')
    if ds.labels.min() < 0 or ds.labels.max() >= num_classes:
      raise ValueError(f'{ds.name} has labels in [{ds.labels.min()}, {ds.labels.max()}]; '
                       f'model.num_classes is {num_classes}.')

  return Task(init=init, train_step=train_step, eval_step=eval_step, inpaint=None, hole=None,
              predict=predict, predicts='logits', check_data=check_data)
