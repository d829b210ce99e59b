#!/usr/bin/env bash
# Runs a config's sweep (its get_sweep(name) members) one member after another on this machine,
# or prints one `python -m inpaintjax.main` command line per member (--print) to hand to a
# scheduler, e.g. each line to launch/slurm.sbatch or launch/tpu_vm.sh.
#
#   launch/sweep.sh CONFIG SWEEP WORKDIR [--print] [--set a.b=v ...] [--members 0,3]
#   e.g. launch/sweep.sh configs/patch_cnn.py ablation runs/patch_sweep --print
#
# Running locally writes WORKDIR/results.md and WORKDIR/plots/ (inpaintjax.sweep); an
# interrupted sweep resumes member by member. The members and their values live in the config.
set -euo pipefail

if [[ $# -lt 3 ]]; then
  sed -n '2,11p' "$0"; exit 2
fi
CONFIG=$1; SWEEP=$2; WORKDIR=$3; shift 3
exec python -m inpaintjax.sweep --config="$CONFIG" --sweep="$SWEEP" --workdir="$WORKDIR" "$@"
