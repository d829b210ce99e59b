"""PyTorch twins of the project's Flax models, for timing one train step against JAX's.

For benchmarking only (benchmarks/versus_pytorch.py times them): each class mirrors one Flax
module of inpaintjax/models/ at the families' CPU configs (same layers in the same order, same
kernels, strides, 'SAME'/'VALID' paddings, widths, activations, dropout and batch norm), so that
the trainable parameter count equals the Flax model's (`flax_param_count` checks it). The step
optimises what the task optimises (tasks/*.py) on fixed random inputs built once: no
augmentation, mask drawing or harmonic fill (the fill is a random stand-in).

Layout: NCHW tensors in PyTorch's channels_last memory format (MEMORY_FORMAT), the faster
one on this CPU (numbers at MEMORY_FORMAT). Initialisation is PyTorch's default, not Flax's.

  python benchmarks/torch_models.py    # parameter table and one batch-4 step per family
  python benchmarks/torch_models.py --formats unet   # channels_last against NCHW
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from inpaintjax.models.context_encoder import decoder_plan  # noqa: E402  (a pure function)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import families  # noqa: E402  (the families' names and configs)

# `--formats FAMILY` (_time_formats), config batch, 3 steps after a warm-up, 2 cores shared with other jobs (load
# 2-3, so noisy), s/step channels_last vs contiguous NCHW: unet 1.68 vs 2.13 (a rerun in the
# other order: 1.65 vs 1.66), context_encoder:l2 1.49 vs 1.68, pixelcnn 1.38 vs 2.18.
MEMORY_FORMAT = torch.channels_last

FAMILIES = ('patch_cnn', 'patch_cnn:strong', 'unet', 'unet:best', 'correcting_ae:conv',
            'context_encoder:l2', 'context_encoder:l2_residual', 'context_encoder:wgan_gp',
            'pixelcnn', 'row_lstm')
CONFIGS = {name: families.FAMILIES[name][0] for name in FAMILIES}  # family → config

ACTIVATIONS = {  # As models/layers.py's ACTIVATIONS (Flax's gelu is the tanh approximation).
    'relu': nn.ReLU, 'sigmoid': nn.Sigmoid, 'tanh': nn.Tanh, 'elu': nn.ELU, 'swish': nn.SiLU,
    'gelu': lambda: nn.GELU(approximate='tanh'), 'leaky_relu': lambda: nn.LeakyReLU(0.01),
    'lrelu': lambda: nn.LeakyReLU(0.2),
}
OUTPUTS = {'tanh': nn.Tanh, 'sigmoid': nn.Sigmoid, 'linear': nn.Identity}


def load_config(family: str):
  """The locked config of `family` (CONFIGS), as `--config` would load it."""
  from inpaintjax import config_base  # pylint: disable=g-import-not-at-top
  return config_base.load_config(os.path.join(families.ROOT, CONFIGS[family]))


def make_act(name: str) -> nn.Module:
  if name not in ACTIVATIONS:
    raise ValueError(f'Unknown activation {name!r}; known: {sorted(ACTIVATIONS)}.')
  return ACTIVATIONS[name]()


def make_dropout(rate: float) -> nn.Module:
  return nn.Dropout(rate) if rate else nn.Identity()  # Flax's Dropout(0) is the identity too.


def centre(x: torch.Tensor, size: int) -> torch.Tensor:
  """layers.central_window / regression.centre_crop on NCHW: the central size×size window."""
  if not size or size == x.shape[-1]:
    return x
  top, left = (x.shape[2] - size) // 2, (x.shape[3] - size) // 2
  return x[:, :, top:top + size, left:left + size]


class Conv(nn.Conv2d):
  """layers.Conv (flax.linen.Conv): lax 'SAME' padding (the odd pixel at the bottom/right, by
  F.pad when asymmetric) or 'VALID'."""

  def __init__(self, cin, cout, kernel, stride=1, padding='SAME', bias=True):
    super().__init__(cin, cout, kernel, stride, 0, bias=bias)
    self.same = padding == 'SAME'

  def weight_(self) -> torch.Tensor:
    return self.weight

  def forward(self, x):
    pads = [(0, 0), (0, 0)]
    if self.same:
      pads = []
      for size, k, s in zip(x.shape[2:], self.kernel_size, self.stride):
        total = max((-(-size // s) - 1) * s + k - size, 0)
        pads.append((total // 2, total - total // 2))
    (top, bottom), (left, right) = pads
    if top == bottom and left == right:
      return F.conv2d(x, self.weight_(), self.bias, self.stride, (top, left))
    return F.conv2d(F.pad(x, (left, right, top, bottom)), self.weight_(), self.bias, self.stride)


class ConvTranspose(nn.ConvTranspose2d):
  """layers.ConvTranspose (flax.linen.ConvTranspose): PyTorch's full transposed convolution
  cropped to lax's 'SAME' / 'VALID' window (the kernel is stored flipped: same parameters)."""

  def __init__(self, cin, cout, kernel, stride=1, padding='SAME', bias=True):
    super().__init__(cin, cout, kernel, stride, bias=bias)
    if padding == 'SAME':  # layers._transpose_pads
      total = kernel + stride - 2
      before = kernel - 1 if stride > kernel - 1 else math.ceil(total / 2)
    else:
      total, before = kernel + stride - 2 + max(kernel - stride, 0), kernel - 1
    self.crop = (kernel - 1 - before, kernel - 1 - (total - before))

  def forward(self, x):
    y = super().forward(x)
    top, bottom = self.crop
    return y[:, :, top:y.shape[2] - bottom, top:y.shape[3] - bottom] if top or bottom else y


class MaskedConv(Conv):
  """masked_conv.MaskedConv: a 'SAME' convolution whose kernel is multiplied by a fixed 0/1
  mask, masked_conv.causal_mask converted from HWIO to OIHW."""

  def __init__(self, cin, cout, kernel, mask_type, colours, out_tile=1):
    from inpaintjax.models.masked_conv import causal_mask  # pylint: disable=g-import-not-at-top
    super().__init__(cin, cout, kernel)
    mask = causal_mask(kernel, cin, cout, colours, mask_type, out_tile)
    self.register_buffer('mask', torch.from_numpy(np.ascontiguousarray(mask.transpose(3, 2, 0, 1))))

  def weight_(self):
    return self.weight * self.mask


class ConvBN(nn.Sequential):
  """backbones.ConvBN: convolution (transposed: upsampling), batch norm, activation."""

  def __init__(self, cin, cout, kernel=3, stride=1, batch_norm=True, act_name='relu',
               transpose=False):
    conv = ConvTranspose if transpose else Conv
    super().__init__(conv(cin, cout, kernel, stride, bias=not batch_norm),
                     nn.BatchNorm2d(cout, momentum=0.1) if batch_norm else nn.Identity(),
                     make_act(act_name) if act_name else nn.Identity())


class PatchCNN(nn.Module):
  """patch_cnn.PatchCNN: conv 5×5 [+ 3×3s] → pool → act, twice; three dense layers → patch."""

  def __init__(self, cin, size, patch_size, out_channels, channels=64, dense_width=1024,
               act='relu', conv_dropout=0.0, dense_dropout=0.5, extra_convs=0, pool=3,
               context=0, output='sigmoid'):
    super().__init__()
    self.context, self.shape = context, (out_channels, patch_size, patch_size)
    layers, size = [], context or size
    for kernel, width in ((5, channels), (3, 2 * channels if extra_convs else channels)):
      layers.append(Conv(cin, width, kernel))
      for _ in range(extra_convs):
        layers += [make_act(act), Conv(width, width, 3)]
      if pool > 1:
        layers.append(nn.MaxPool2d(pool))
        size //= pool
      layers += [make_act(act), make_dropout(conv_dropout)]
      cin = width
    layers.append(nn.Flatten())
    features = cin * size * size
    for _ in range(2):
      layers += [nn.Linear(features, dense_width), make_act(act), make_dropout(dense_dropout)]
      features = dense_width
    layers += [nn.Linear(features, out_channels * patch_size**2), OUTPUTS[output]()]
    self.net = nn.Sequential(*layers)

  def forward(self, x):
    return self.net(centre(x, self.context)).view(-1, *self.shape)


class UNet(nn.Module):
  """unet.UNet: [conv–conv–dropout → pool] per level, bottleneck block, [2×2 stride-2
  transposed conv, concat skip, block] per level, 1×1 conv, output activation."""

  def __init__(self, cin, out_channels, base_channels=32, levels=2, dropout=0.1, act='relu',
               output='tanh', max_channels=0, context=0):
    super().__init__()
    self.context = context
    width = [min(base_channels * 2**l, max_channels or 1 << 30) for l in range(levels + 1)]

    def block(cin, cout):
      return nn.Sequential(Conv(cin, cout, 3), make_act(act), Conv(cout, cout, 3),
                           make_act(act), make_dropout(dropout))

    self.down = nn.ModuleList()
    for l in range(levels):
      self.down.append(block(cin, width[l]))
      cin = width[l]
    self.middle = block(cin, width[levels])
    cin = width[levels]
    self.ups, self.up_blocks = nn.ModuleList(), nn.ModuleList()
    for l in reversed(range(levels)):
      self.ups.append(ConvTranspose(cin, width[l], 2, 2))
      self.up_blocks.append(block(2 * width[l], width[l]))
      cin = width[l]
    self.head = nn.Sequential(Conv(cin, out_channels, 1), OUTPUTS[output]())

  def forward(self, x):
    x, skips = centre(x, self.context), []
    for block in self.down:
      x = block(x)
      skips.append(x)
      x = F.max_pool2d(x, 2)
    x = self.middle(x)
    for up, block in zip(self.ups, self.up_blocks):
      x = block(torch.cat([up(x), skips.pop()], 1))
    return self.head(x)


class ConvAutoencoder(nn.Module):
  """autoencoder.ConvAutoencoder (mirror=True, no canonicaliser): 3×3 convs (the first two
  stride 2) → dense code → dense → mirrored decoder (transposed convs where it upsamples)."""

  def __init__(self, cin, size, out_channels, layers=3, width=32, bottleneck=64, mirror=True,
               act='relu', dropout=0.0, output='logits', skips=False, orient=False, **unused):
    super().__init__()
    del unused  # orient_width, orient_depth: the canonicaliser's, which is off.
    if orient or not mirror:
      raise NotImplementedError('Only the mirrored ConvAutoencoder without orient is mirrored.')
    a = lambda: nn.Sequential(make_act(act), make_dropout(dropout))
    self.skips, downs = skips, min(layers, 2)
    chans = [width * 2**min(i, 2) for i in range(layers)]
    self.encoder = nn.ModuleList()
    for i, c in enumerate(chans):
      self.encoder.append(nn.Sequential(Conv(cin, c, 3, 2 if i < downs else 1), a()))
      cin = c
    self.small = (cin, size // 2**downs, size // 2**downs)
    flat = int(np.prod(self.small))
    self.code = nn.Sequential(nn.Flatten(), nn.Linear(flat, bottleneck), make_act(act),
                              nn.Linear(bottleneck, flat), make_act(act))
    self.decoder = nn.ModuleList()
    for i in reversed(range(layers)):
      c, cin = chans[max(i - 1, 0)], cin + (chans[i] if skips else 0)
      conv = ConvTranspose(cin, c, 3, 2) if i < downs else Conv(cin, c, 3)
      self.decoder.append(nn.Sequential(conv, a()))
      cin = c
    self.head = nn.Sequential(Conv(cin, out_channels, 3),
                              nn.Sigmoid() if output == 'sigmoid' else nn.Identity())

  def forward(self, x):
    encoded = []
    for layer in self.encoder:
      x = layer(x)
      encoded.append(x)
    x = self.code(x).view(-1, *self.small).contiguous(memory_format=MEMORY_FORMAT)
    for layer in self.decoder:
      x = layer(torch.cat([x, encoded.pop()], 1) if self.skips else x)
    return self.head(x)


class ContextEncoder(nn.Module):
  """context_encoder.ContextEncoder with backbones.Backbone 'plain' or 'vgg': [conv-BN-act ×2
  (×3) → downsample] per stage, dense (or conv) bottleneck, stride-2 transposed ConvBNs,
  3×3 conv to the patch, output activation."""

  def __init__(self, cin, size, out_channels, patch_size=0, backbone='plain', channels=32,
               stages=3, downsample='pool', batch_norm=True, bottleneck='dense',
               bottleneck_units=512, dropout=0.5, act='relu', output='tanh', decoder_convs=0,
               zero_init_output=False, context=0):
    super().__init__()
    if backbone not in ('plain', 'vgg'):
      raise NotImplementedError(f'Backbone {backbone!r} is not mirrored here.')
    self.context = context
    size = context or size
    start, ups = decoder_plan(patch_size or size)
    conv = lambda cin, cout, **kw: ConvBN(cin, cout, batch_norm=batch_norm, act_name=act, **kw)
    layers = []
    for s in range(stages):
      width = channels * 2**s
      for _ in range(2 if backbone == 'plain' else 3):
        layers.append(conv(cin, width))
        cin = width
      layers.append(nn.MaxPool2d(2) if downsample == 'pool' else conv(width, width, stride=2))
      size = size // 2 if downsample == 'pool' else -(-size // 2)
    width = channels * 2**max(stages - 1, 0)
    if bottleneck == 'dense':
      layers += [nn.Flatten(), nn.Linear(cin * size * size, bottleneck_units), make_act(act),
                 make_dropout(dropout), nn.Linear(bottleneck_units, start * start * width),
                 make_act(act), nn.Unflatten(1, (width, start, start))]
    else:
      layers += [Conv(cin, bottleneck_units, size, padding='VALID'), make_act(act),
                 make_dropout(dropout),
                 ConvTranspose(bottleneck_units, width, start, padding='VALID'), make_act(act)]
    self.encoder = nn.Sequential(*layers)
    layers = []
    for _ in range(ups):
      cin, width = width, max(width // 2, channels)
      layers.append(conv(cin, width, stride=2, transpose=True))
      layers += [conv(width, width) for _ in range(decoder_convs)]
    layers.append(Conv(width, out_channels, 3))
    if zero_init_output:
      nn.init.zeros_(layers[-1].weight)
      nn.init.zeros_(layers[-1].bias)
    self.decoder = nn.Sequential(*layers, OUTPUTS[output]())

  def forward(self, x):
    h = self.encoder(centre(x, self.context)).contiguous(memory_format=MEMORY_FORMAT)
    return self.decoder(h)



class Discriminator(nn.Module):
  """context_encoder.Discriminator, kind 'dcgan': `depth` 4×4 stride-2 ConvBNs (no batch norm
  on the first), then a VALID conv over what is left to one score per example."""

  def __init__(self, cin, size, kind='dcgan', channels=64, depth=3, batch_norm=True,
               act='lrelu'):
    super().__init__()
    if kind != 'dcgan':
      raise NotImplementedError(f'Critic kind {kind!r} is not mirrored here.')
    layers = []
    for i in range(depth):
      layers.append(ConvBN(cin, channels * 2**i, 4, 2, batch_norm and i > 0, act))
      cin, size = channels * 2**i, -(-size // 2)
    self.net = nn.Sequential(*layers, Conv(cin, 1, size, padding='VALID'), nn.Flatten(0))

  def forward(self, x):
    return self.net(x)


class Head(nn.Module):
  """pixelcnn._Head: act → 1×1 type-B conv → act → 1×1 type-B conv to 256 logits per colour."""

  def __init__(self, colours, features, act='relu'):
    super().__init__()
    self.net = nn.Sequential(make_act(act), MaskedConv(features, features, 1, 'B', colours),
                             make_act(act), MaskedConv(features, 256 * colours, 1, 'B',
                                                            colours))

  def forward(self, h):
    return self.net(h)


class PixelCNN(nn.Module):
  """pixelcnn.PixelCNN (unconditional): type-A first conv, type-B hidden convs (residual,
  dropout), the head; logits (N, C·256, H, W), colour-major like the Flax reshape."""

  def __init__(self, out_channels=3, features=96, layers=6, first_kernel=5, kernel=3,
               residual=False, dropout=0.0, act='relu', context=0):
    super().__init__()
    if context:
      raise NotImplementedError('The conditional PixelCNN is not mirrored here.')
    c = out_channels
    self.residual, self.act = residual, make_act(act)
    self.first = MaskedConv(c, features, first_kernel, 'A', c)
    self.hidden = nn.ModuleList(MaskedConv(features, features, kernel, 'B', c)
                                for _ in range(layers))
    self.drop = make_dropout(dropout)
    self.head = Head(c, features, act)

  def forward(self, x):
    h = self.first(2.0 * x - 1.0)
    for conv in self.hidden:
      y = self.drop(conv(self.act(h)))
      h = h + y if self.residual else y
    return self.head(h)


class RowLSTM(nn.Module):
  """pixelrnn.RowLSTM: per layer a masked 1×k input-to-state conv (A, then B) and an unmasked
  1-D k-wide state-to-state conv over the previous row, run as a Python loop over rows."""

  def __init__(self, out_channels=3, features=48, layers=2, kernel=3, residual=True, act='relu'):
    super().__init__()
    c, f = out_channels, features
    self.residual, self.pad = residual, (kernel - 1) // 2
    self.input_convs = nn.ModuleList(
        MaskedConv(c if i == 0 else f, 4 * f, (1, kernel), 'A' if i == 0 else 'B', c, out_tile=4)
        for i in range(layers))
    self.state_kernels = nn.ParameterList(
        nn.Parameter(torch.randn(4 * f, f, kernel) / math.sqrt(f * kernel)) for _ in range(layers))
    self.head = Head(c, f, act)

  def forward(self, x):
    inp = 2.0 * x - 1.0
    for i, (conv, kernel) in enumerate(zip(self.input_convs, self.state_kernels)):
      gates_in = conv(inp)
      h = cell = gates_in.new_zeros(x.shape[0], kernel.shape[1], x.shape[3])
      rows = []
      for r in range(x.shape[2]):
        gates = gates_in[:, :, r] + F.conv1d(h, kernel, padding=self.pad)
        i_g, f_g, o_g, g_g = gates.chunk(4, 1)
        cell = torch.sigmoid(f_g) * cell + torch.sigmoid(i_g) * torch.tanh(g_g)
        h = torch.sigmoid(o_g) * torch.tanh(cell)
        rows.append(h)
      hs = torch.stack(rows, 2)
      inp = hs + inp if self.residual and i else hs
    return self.head(inp)


# ---- Train steps. ----------------------------------------------------------------------------

def _nchw(x_nhwc: torch.Tensor) -> torch.Tensor:
  return x_nhwc.permute(0, 3, 1, 2).contiguous(memory_format=MEMORY_FORMAT)


def _adam(params, optim_cfg):
  if optim_cfg.name != 'adam':
    raise NotImplementedError(f'Optimizer {optim_cfg.name!r}: only Adam is mirrored.')
  # The learning rate is constant: a cosine schedule costs nothing worth timing.
  return torch.optim.Adam(params, lr=optim_cfg.learning_rate, betas=(optim_cfg.b1, optim_cfg.b2))


def _update(loss, opt, params, optim_cfg) -> float:
  loss.backward()
  if optim_cfg.grad_clip:
    nn.utils.clip_grad_norm_(params, optim_cfg.grad_clip)
  opt.step()
  return loss.item()


def _weighted_mean(err, w):
  w = w.expand_as(err)
  return (w * err).sum() / w.sum().clamp_min(1e-8)


def _pixel_loss(kind, pred, target, w):
  """losses.pixel_loss on NCHW tensors (w: (N, 1, h, w) per-pixel weights)."""
  if kind == 'mse':
    return _weighted_mean((pred - target).square(), w)
  if kind == 'l1':
    return _weighted_mean((pred - target).abs(), w)
  if kind == 'rgb_dist':
    return _weighted_mean(torch.sqrt((pred - target).square().sum(1, keepdim=True) + 1e-6), w)
  if kind == 'log_mse':
    w = w.expand_as(pred)
    per_image = (w * (pred - target).square()).sum((1, 2, 3)) / w.sum((1, 2, 3)).clamp_min(1e-8)
    return (10.0 * torch.log10(per_image + 1e-5)).mean()
  raise ValueError(f'Unknown loss kind {kind!r}.')


def _inpainting_inputs(config, n, gen, channels):
  """(model input, filled image, clean image, loss weights), NCHW, in the model's scale."""
  size = config.data.image_size
  hole = int(config.hole.partition('-')[2])  # Every family here trains on centre holes.
  x = torch.rand(n, size, size, channels, generator=gen)
  x = 2.0 * x - 1.0 if config.signed else x
  mask = torch.zeros(n, size, size, 1)
  top = (size - hole) // 2
  mask[:, top:top + hole, top:top + hole] = 1.0
  try:
    fill = float(config.hole_fill)
  except ValueError:  # 'harmonic' / 'mean': a random stand-in for the fill.
    fill = torch.rand(n, size, size, channels, generator=gen)
  filled = x * (1.0 - mask) + fill * mask
  inp = torch.cat([filled, mask], -1) if config.mask_channel else filled
  weights = config.loss.known_weight * (1.0 - mask) + config.loss.hole_weight * mask
  return tuple(_nchw(t) for t in (inp, filled, x, weights))


def _count(*modules) -> int:
  return sum(p.numel() for m in modules for p in m.parameters() if p.requires_grad)


def _model(family: str, config, channels: int, patch: int) -> nn.Module:
  fields = {k: v for k, v in dict(config.model).items() if k != 'name'}
  cin = channels + (1 if config.mask_channel else 0)
  size = config.data.image_size
  if family.startswith('patch_cnn'):
    return PatchCNN(cin, size, patch, channels, **fields)
  if family.startswith('unet'):
    return UNet(cin, channels, **fields)
  if family.startswith('context_encoder'):
    return ContextEncoder(cin, size, channels, patch_size=patch, **fields)
  if family == 'correcting_ae:conv':
    fields['output'] = 'logits'  # tasks/correction.py builds it with output='logits'.
    return ConvAutoencoder(channels, size, channels, **fields)
  if family == 'pixelcnn':
    return PixelCNN(channels, **fields)
  if family == 'row_lstm':
    return RowLSTM(channels, **fields)
  raise ValueError(f'Unknown family {family!r}; known: {FAMILIES}.')


def make_step(family: str, config, batch_size: int | None = None,
              seed: int = 0) -> tuple[Callable[[], float], int]:
  """(step, n_params): step() is one full PyTorch train step of `family` on fixed random
  inputs of the config's batch shape, returning the loss; n_params counts every trainable
  parameter (generator + critic for the GAN)."""
  if family not in FAMILIES:
    raise ValueError(f'Unknown family {family!r}; known: {FAMILIES}.')
  torch.manual_seed(seed)
  gen = torch.Generator().manual_seed(seed)
  n = batch_size or config.batch_size
  channels = config.data.channels or 3
  size = config.data.image_size
  optim_cfg = config.optim

  if family in ('pixelcnn', 'row_lstm'):  # tasks/autoregressive.py: 256-way cross-entropy.
    model = _model(family, config, channels, 0).to(memory_format=MEMORY_FORMAT).train()
    levels = torch.randint(0, 256, (n, size, size, channels), generator=gen)
    x, targets = _nchw(levels / 255.0), levels.reshape(-1)
    params, opt = list(model.parameters()), _adam(model.parameters(), optim_cfg)

    def step():
      opt.zero_grad()
      logits = model(x).permute(0, 2, 3, 1).reshape(-1, 256)  # (N·H·W·C, 256), colour-major.
      return _update(F.cross_entropy(logits, targets), opt, params, optim_cfg)

    return step, _count(model)

  if family == 'correcting_ae:conv':  # tasks/correction.py: BCE on logits, damaged → clean.
    model = _model(family, config, channels, 0).to(memory_format=MEMORY_FORMAT).train()
    damaged, clean = (_nchw(torch.rand(n, size, size, channels, generator=gen)) for _ in 'ab')
    params, opt = list(model.parameters()), _adam(model.parameters(), optim_cfg)

    def step():
      opt.zero_grad()
      loss = F.binary_cross_entropy_with_logits(model(damaged), clean)
      return _update(loss, opt, params, optim_cfg)

    return step, _count(model)

  hole = int(config.hole.partition('-')[2])
  adversarial = family.startswith('context_encoder') and config.adversary.kind != 'none'
  if family.startswith('context_encoder'):
    patch = hole + 2 * config.overlap
  else:
    patch = hole
  model = _model(family, config, channels, patch).to(memory_format=MEMORY_FORMAT).train()
  params, opt = list(model.parameters()), _adam(model.parameters(), optim_cfg)
  kind = config.loss.kind

  def generate(inp, filled):
    out = model(inp)
    return out + centre(filled, out.shape[-1]) if config.residual else out

  def reconstruction(out, x, w):
    return _pixel_loss(kind, out, centre(x, out.shape[-1]), centre(w, out.shape[-1]))

  if not adversarial:  # tasks/regression.py, or tasks/adversarial.py with α = 1.
    inp, filled, x, w = _inpainting_inputs(config, n, gen, channels)

    def step():
      opt.zero_grad()
      return _update(reconstruction(generate(inp, filled), x, w), opt, params, optim_cfg)

    return step, _count(model)

  # tasks/adversarial.py, WGAN-GP: n_critic critic updates, each on its own batch, then one
  # generator update on one more.
  adv = config.adversary
  if adv.kind != 'wgan_gp' or adv.on != 'patch':
    raise NotImplementedError(f'Adversary {adv.kind!r} on {adv.on!r}: only wgan_gp on the patch.')
  critic_fields = {k: v for k, v in dict(config.critic).items() if k != 'name'}
  critic = Discriminator(channels, patch, **critic_fields).to(memory_format=MEMORY_FORMAT).train()
  c_params, c_opt = list(critic.parameters()), _adam(critic.parameters(), config.critic_optim)
  batches = [_inpainting_inputs(config, n, gen, channels) for _ in range(adv.n_critic + 1)]

  def critic_update(inp, filled, x, _):
    with torch.no_grad():  # The generator is run (train mode), not changed.
      fake = generate(inp, filled)
    real = centre(x, patch)
    c_opt.zero_grad()
    loss = critic(fake).mean() - critic(real).mean()
    eps = torch.rand(n, 1, 1, 1)
    mixed = (eps * real + (1.0 - eps) * fake).requires_grad_(True)
    grads, = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    norms = torch.sqrt(grads.square().sum((1, 2, 3)) + 1e-12)
    loss = loss + adv.gp_weight * (norms - 1.0).square().mean()
    _update(loss, c_opt, c_params, config.critic_optim)

  def step():
    for batch in batches[:-1]:
      critic_update(*batch)
    inp, filled, x, w = batches[-1]
    critic.requires_grad_(False)  # Gradients for the generator only, as jax.grad takes.
    opt.zero_grad()
    out = generate(inp, filled)
    loss = adv.alpha * reconstruction(out, x, w) + (1.0 - adv.alpha) * -critic(out).mean()
    loss = _update(loss, opt, params, optim_cfg)
    critic.requires_grad_(True)
    return loss

  return step, _count(model, critic)


def flax_param_count(family: str, config) -> int:
  """Parameters of the project's Flax model(s) for `family`: the task's own init, traced
  (jax.eval_shape) on a 2-image batch per sub-batch."""
  if family not in FAMILIES:
    raise ValueError(f'Unknown family {family!r}; known: {FAMILIES}.')
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  from inpaintjax import tasks  # pylint: disable=g-import-not-at-top
  task = tasks.make(config)
  size = config.data.image_size
  shape = (2 * task.batch_multiple, size, size, config.data.channels or 3)
  state = jax.eval_shape(task.init, jax.random.PRNGKey(0),
                         {'image': jax.ShapeDtypeStruct(shape, jnp.uint8)})
  params = state.params
  if config.task == 'adversarial' and config.adversary.kind == 'none':
    # The L2 context encoder's state also holds a critic that is never trained: not counted.
    params = params['generator']
  return sum(int(np.prod(leaf.shape)) for leaf in jax.tree.leaves(params))


def _time_formats(family: str = 'unet', steps: int = 3) -> None:
  """Seconds per step at the config's batch in channels_last and contiguous NCHW."""
  import time  # pylint: disable=g-import-not-at-top
  global MEMORY_FORMAT
  for fmt in (torch.channels_last, torch.contiguous_format):
    MEMORY_FORMAT = fmt
    step, _ = make_step(family, load_config(family))
    step()
    start = time.perf_counter()
    for _ in range(steps):
      step()
    print(f'{family} {fmt}: {(time.perf_counter() - start) / steps:.3f} s/step')
  MEMORY_FORMAT = torch.channels_last


def main() -> None:
  if sys.argv[1:2] == ['--formats']:  # The MEMORY_FORMAT measurement, for one family.
    _time_formats(*sys.argv[2:3])
    return
  print('| family | torch params | flax params | equal | batch-4 loss |\n|---|---|---|---|---|')
  for family in FAMILIES:
    config = load_config(family)
    step, n_params = make_step(family, config, batch_size=4)
    loss = step()
    flax = flax_param_count(family, config)
    ok = n_params == flax and math.isfinite(loss)
    print(f'| {family} | {n_params:,} | {flax:,} | {"yes" if ok else "NO"} | {loss:.4f} |')


if __name__ == '__main__':
  main()
