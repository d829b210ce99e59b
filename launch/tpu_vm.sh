#!/usr/bin/env bash
# Trains one config on a Cloud TPU VM (a single host or a pod slice): creates the VM, installs
# inpaintjax on every worker and runs the same `python -m inpaintjax.main` on all of them.
# jax.distributed.initialize() finds the other workers itself on a TPU VM
# (--config.distributed=True); the batch is sharded over every chip of every worker.
#
#   launch/tpu_vm.sh CONFIG WORKDIR [--config.a.b=v ...]
#   e.g. launch/tpu_vm.sh configs/pixelcnn.py:paper gs://my-bucket/runs/pixelcnn_paper
#
# WORKDIR must be a folder every worker can write (a gs:// bucket: orbax and the logs write
# there); the same WORKDIR resumes. A preempted worker (SIGTERM: a spot VM reclaimed, a
# maintenance event) makes every worker save the same step and exit with status 75: run the
# same command again (CREATE=0 if the VM is still there) to resume from it.
# Hyper-parameters live in the config, not here.
# Environment (defaults in brackets): TPU_NAME [inpaintjax], ZONE [us-central2-b],
# ACCELERATOR [v4-8], VERSION [tpu-ubuntu2204-base], REPO [this checkout's origin URL],
# REF [this checkout's commit], CREATE [1: create the VM; 0: use an existing one],
# DELETE [0: keep the VM afterwards], DRY_RUN [0; 1 prints the gcloud commands instead].
set -euo pipefail

if [[ $# -lt 2 ]]; then
  sed -n '2,19p' "$0"; exit 2
fi
CONFIG=$1; WORKDIR=$2; shift 2
HERE=$(cd "$(dirname "$0")/.." && pwd)
TPU_NAME=${TPU_NAME:-inpaintjax}
ZONE=${ZONE:-us-central2-b}
ACCELERATOR=${ACCELERATOR:-v4-8}
VERSION=${VERSION:-tpu-ubuntu2204-base}
REPO=${REPO:-$(git -C "$HERE" remote get-url origin 2>/dev/null || echo https://github.com/inpaintjax/inpaintjax)}
REF=${REF:-$(git -C "$HERE" rev-parse HEAD 2>/dev/null || echo main)}

run() {
  if [[ ${DRY_RUN:-0} == 1 ]]; then printf '%q ' "$@"; echo; else "$@"; fi
}

if [[ ${CREATE:-1} == 1 ]]; then
  run gcloud compute tpus tpu-vm create "$TPU_NAME" --zone="$ZONE" \
    --accelerator-type="$ACCELERATOR" --version="$VERSION"
fi

EXTRA=$(printf '%q ' "$@")
SETUP="set -e; [ -d inpaintjax ] || git clone $REPO inpaintjax; cd inpaintjax; git fetch -q origin; \
git checkout -q $REF; python3 -m venv .venv; . .venv/bin/activate; \
pip install -q -U pip; pip install -q -e . 'jax[tpu]'"
TRAIN="cd inpaintjax; . .venv/bin/activate; python -m inpaintjax.main --config=$CONFIG \
--workdir=$WORKDIR --config.distributed=True --config.cpu_devices=0 $EXTRA"

run gcloud compute tpus tpu-vm ssh "$TPU_NAME" --zone="$ZONE" --worker=all --command="$SETUP"
run gcloud compute tpus tpu-vm ssh "$TPU_NAME" --zone="$ZONE" --worker=all --command="$TRAIN"

if [[ ${DELETE:-0} == 1 ]]; then
  run gcloud compute tpus tpu-vm delete "$TPU_NAME" --zone="$ZONE" --quiet
fi
