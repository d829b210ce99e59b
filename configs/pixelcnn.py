"""PixelCNN inpainter: masked convolutions, a 256-way softmax per sub-pixel, R → G → B.

Trains p(image) by maximum likelihood (reported as bits/dim) and fills a centre
8×8 hole by generating its pixels in raster order (`sample.temperature` 0:
greedy; > 0: sampled), with the cached jitted sampler of inpaintjax.autoregressive.

Variants (`--config=configs/pixelcnn.py:VARIANT`):
  cpu (default)  what trains on a 2-core CPU in about 2 hours: a residual PixelCNN, 5×5
                 type-A first layer, 6 residual 3×3 type-B layers, 60 features, batch 32.
  source         the source's small model: 5×5 first layer, 3×3 layers, no residual.
  gated          Gated PixelCNN (vertical + horizontal stacks, no blind spot), CPU size.
  paper          the PixelCNN of the PixelRNN paper (van den Oord et al., 2016, Table 5:
                 3.14 bits/dim on CIFAR-10 test): 7×7 type-A layer, 15 residual 3×3 layers,
                 128 features; an accelerator run (batch 64, ~200k steps).
  conditional    the cpu model conditioned on everything known: a ContextNet (dilated
                 convolutions, 64 wide) reads the image with its hole filled harmonically
                 and the mask, and conditions every layer, so a hole pixel's distribution
                 also depends on the context below and to its right. It learns
                 p(hole | known pixels): trained on `hole`'s holes, its loss and
                 hole_bits_per_dim count the hole's sub-pixels only.
  conditional_mixed  `conditional` trained on every hole kind (config_base.MIXED_HOLES, one
                 kind per image, drawn per batch) instead of centre-8 holes.
  smoke          tiny, for tests (`conditional_smoke`: the conditional one).

Data default: TFDS cifar10 (falls back to the embedded photos offline). From the npz that
`python -m inpaintjax.data.prepare cifar10 --out=data` writes:
--config.data.name=npz:data/cifar10_train.npz --config.data.holdout=0.04 (the last 2,000
images, `npz:data/cifar10_train.npz@48000:`, are the validation split).

Speed (2026-12-02, 2-core CPU, one XLA device, python benchmarks/old_vs_new.py --base=1ecda2b):
the train step went from cpu 668 → 554 ms (1.21×) and gated 1201 → 998 ms (1.20×), with the
shape-lowered layers of models/layers.py. Every wall-clock time of a run below was measured
before that change.

Results. Speed on this 2-core CPU (python benchmarks/families.py, 2026-11-29; train images/s, jitted
greedy fill of a centre 8×8 hole in images/s and its speed-up over the plain per-sub-pixel
loop): pixelcnn 52.7, 20.2, 20×; gated 27.7, 26.7, 48×. With the row refresh (2026-11-30,
python benchmarks/sampler.py --models=pixelcnn,gated, 16 images): pixelcnn 70.3 images/s, 66×;
gated 50.8, 92×.
Quality, the cpu config in full (2026-11-30; 6,000 steps, 77 min sharing the CPU with one or
two other jobs, about 40 min alone):
  python -m inpaintjax.main --config=configs/pixelcnn.py --workdir=runs/pixelcnn_cpu \
    --config.data.name=npz:data/cifar10_train.npz --config.data.holdout=0.04
  bits/dim on the first 500 held-out images at 1k / 2k / 3k / 4k / 5k / 6k steps: 5.27 / 4.85 /
  4.58 / 4.47 / 4.40 / 4.38.
  python -m inpaintjax.evaluate --workdir=runs/pixelcnn_cpu --data=npz:data/cifar10_train.npz@48000: --hole=center-8
  on all 2,000 held-out images: test 4.38 bits/dim (the paper model: 3.14); greedy centre-8
  fill 16.54 dB hole_psnr, ssim 0.911, sharpness 0.77 (biharmonic 19.10; the conditional
  model below is the one that beats it).
A first short run, 2026-11-29 (10 min alone, 2.5 step/s):
  python -m inpaintjax.main --config=configs/pixelcnn.py --workdir=runs/pixelcnn_1500 \
    --config.data.name=npz:data/cifar10_train.npz --config.data.holdout=0.04 \
    --config.num_steps=1500 --config.eval_every=750
  python -m inpaintjax.evaluate --workdir=runs/pixelcnn_1500 --data=npz:data/cifar10_train.npz@48000:
  (the last 2,000 images of cifar10_train.npz): 4.99 bits/dim (5.32 at 750 steps), greedy
  centre-8 fill 16.01 dB hole_psnr, ssim 0.905 (biharmonic on the same images 19.10 dB).
Conditional PixelCNN (2026-11-30), the greedy fill that beats biharmonic. An unconditional
raster-order model fills the hole from above and left only, and greedy decoding drifts (the
16.01 dB above). `:conditional` adds a ContextNet that reads everything known around the
hole; with `context_run` the context's hole holds a frozen U-Net's fill, and the PixelCNN
learns the distribution of each hole sub-pixel around that guess (a conditioning network
beside a PixelCNN, as in Pixel Recursive Super Resolution). Two warm-started stages:
  python -m inpaintjax.main --config=configs/pixelcnn.py:conditional \
    --workdir=runs/pixelcnn_cond --config.init_from=runs/pixelcnn_1500 \
    --config.data.name=npz:data/cifar10_train.npz --config.data.holdout=0.04 \
    --config.num_steps=6000 --config.eval_every=1000         (harmonic context; stopped at
    1,500 steps: 1,000 steps gave greedy 16.34 dB, hole bits/dim 5.04 on 500 images)
  python -m inpaintjax.main --config=configs/pixelcnn.py:conditional \
    --workdir=runs/pixelcnn_unetctx --config.init_from=runs/pixelcnn_cond \
    --config.context_run=runs/unet_logmse_shift4 --config.num_steps=3000 \
    --config.eval_every=500 (+ the data flags)      3,000 steps, 0.5-1.2 step/s beside other jobs
  Greedy centre-8 fill / hole bits/dim on 500 held-out images at 500 / 1k / 1.5k / 2k / 2.5k /
  3k steps: 14.21 / 16.95 / 15.51 / 18.04 / 19.36 / 19.73 dB; 4.90 / 4.78 / 4.72 / 4.58 /
  4.49 / 4.47.
  python -m inpaintjax.evaluate --runs runs/pixelcnn_unetctx runs/unet_logmse_shift4 \
    --baselines biharmonic --data=npz:data/cifar10_train.npz@48000: --hole=center-8
  on the 2,000 held-out images: greedy fill 19.57 dB hole_psnr, ssim 0.945, ssim_seed 0.961,
  rgb_dist 40.6, sharpness 0.71, 4.47 bits per hole sub-pixel; biharmonic 19.10 dB, sharpness 0.60 (19.21 on the test
  split); the U-Net whose fill it conditions on: 20.52 dB, sharpness 0.62. The greedy fill
  takes the most likely value of each sub-pixel, not the mean that PSNR rewards, so it stays
  below its guide while being sharper than both.
Re-run 2026-12-06 on prepare's split for the hole bits/dim and the benchmark (README, "One
benchmark across hole kinds"), the shipped U-Net as the context:
  python -m inpaintjax.main --config=configs/pixelcnn.py --workdir=runs/pixelcnn_1500 \
    --config.num_steps=1500 --config.eval_every=750 (+ the data flags)     28 min beside another job
  python -m inpaintjax.main --config=configs/pixelcnn.py:conditional \
    --workdir=runs/pixelcnn_unetctx --config.init_from=runs/pixelcnn_1500 \
    --config.context_run=shipped:cifar10 --config.num_steps=2000 --config.eval_every=500 \
    (+ the data flags)                                      53 min beside another job (1.5 s/step)
  python -m inpaintjax.evaluate --workdir=RUN --data=npz:data/cifar10_train.npz@48000: \
    --hole=center-8 --limit=500
  pixelcnn_1500 on the first 500 validation images: 5.022 bits/dim over the whole image, 5.213
  over the hole's sub-pixels (each given every sub-pixel before it in raster order), greedy
  fill 16.15 dB. pixelcnn_unetctx: greedy fill / hole bits/dim at 500 / 1k / 1.5k / 2k steps
  14.66 / 17.60 / 16.84 / 19.00 dB, 5.26 / 5.02 / 4.83 / 4.73 (it models the hole only, so
  it has no whole-image figure); biharmonic on those 500 images 18.79 dB. On all 2,000
  (the benchmark): 19.07 dB, biharmonic 19.05, sharpness 0.74, hole bits/dim 4.717. The
  2026-11-30 run's 19.57 dB had 4,500 warm-started steps against these 2,000.
conditional_mixed (2026-12-07, prepare's split): the centre-8 model above, fine-tuned on the
six hole kinds with the same shipped U-Net's fill as its context (on a free-form hole that is
biharmonic's fill with the U-Net's centre window):
  python -m inpaintjax.main --config=configs/pixelcnn.py:conditional_mixed \
    --workdir=runs/pixelcnn_mixed --config.init_from=runs/pixelcnn_unetctx \
    --config.context_run=shipped:cifar10 --config.num_steps=2000 --config.eval_every=1000 \
    (+ the data flags)                   47 min alone with its two evaluations (1.2 s/step)
  in-training eval (500 images, the mixed holes) at 1k / 2k steps: greedy fill 16.55 / 18.54 dB,
  hole bits/dim 4.796 / 4.509. Scored on all 2,000 validation images, one kind per command:
  python -m inpaintjax.benchmark --runs runs/pixelcnn_mixed --baselines= --holes=KIND \
    --data=npz:data/cifar10_train.npz@48000: --out=runs/bench_pmix_KIND --extend=PREVIOUS.json
  greedy hole_psnr / hole bits/dim on centre-8 / centre-16 / thin / medium / thick / box:
  19.16 / 15.45 / 23.67 / 20.35 / 17.30 / 17.50 dB (against biharmonic: +0.11 / −0.54 / −1.17 /
  −1.15 / −0.98 / −0.66), 4.553 / 4.591 / 4.328 / 4.377 / 4.443 / 4.486 bits/dim, sharpness
  0.72 / 0.49 / 0.98 / 0.83 / 0.68 / 0.64 (2 to 14 min a kind).
  The centre-8 model (pixelcnn_unetctx) on the same holes: 19.07 / 14.18 / 17.41 / not run /
  13.33 / not run dB, 4.717 / 5.006 / 5.329 / - / 5.252 bits/dim. The mix mends the free-form
  collapse (+6.26 dB on thin) and lowers the hole bits/dim on every kind; the greedy fill, the
  most likely value of each sub-pixel rather than the mean PSNR rewards, stays 0.5 to 1.2 dB
  below biharmonic on the larger and free-form holes.
"""

from inpaintjax import config_base

VARIANTS = ('', 'cpu', 'source', 'gated', 'paper', 'conditional', 'conditional_mixed', 'smoke',
            'conditional_smoke')


def autoregressive_base():
  """Fields every autoregressive config shares (also used by configs/pixelrnn.py)."""
  c = config_base.base_config()
  c.task = 'autoregressive'
  c.hole = 'center-8'
  c.signed = False
  c.sample = dict(temperature=0.0)   # 0 = greedy fill; > 0 samples from softmax(logits / T).
  c.context_run = ''  # Conditional models: an inpainting run whose fill is the context's hole.
  c.augment.flip = True
  c.optim.update(learning_rate=1e-3, schedule='cosine', warmup_steps=200, grad_clip=1.0)
  c.batch_size = 32
  c.num_steps = 6000
  c.log_every = 50
  c.eval_every = 1000
  c.checkpoint_every = 250
  c.data.eval_limit = 500
  c.eval_batch_size = 250
  # `python benchmarks/train_step.py --config=configs/pixelcnn.py[:gated] --devices=1,2`,
  # 2-core host, 2026-12-02: 555.3 → 364.7 ms/step (1.52×), gated 988.9 → 784.7 (1.26×).
  c.cpu_devices = 2
  return c


def get_config(arg=None):
  """The PixelCNN config for variant `arg`."""
  arg = arg or ''
  config_base.check_variant(arg, VARIANTS)
  c = autoregressive_base()
  c.model = dict(name='pixelcnn', features=60, layers=6, first_kernel=5, kernel=3,
                 residual=True, dropout=0.0, act='relu', context=0)
  if arg == 'source':
    c.model.update(features=48, layers=4, residual=False)
  elif arg == 'gated':
    c.model = dict(name='gated_pixelcnn', features=60, layers=6, first_kernel=5, kernel=3,
                   dropout=0.0, act='relu')
  elif arg == 'paper':
    c.model.update(features=128, layers=15, first_kernel=7)
    c.batch_size = 64
    c.num_steps = 200_000
    c.eval_every = 10_000
    c.checkpoint_every = 2000
    c.cpu_devices = 0
  elif arg in ('conditional', 'conditional_mixed'):
    c.model.update(context=64)
    if arg == 'conditional_mixed':
      c.hole = config_base.MIXED_HOLES
  elif arg in ('smoke', 'conditional_smoke'):
    c.model.update(features=6, layers=1, context=8 if arg == 'conditional_smoke' else 0)
    config_base.make_smoke(c)
    c.data.image_size = 16
  return c
