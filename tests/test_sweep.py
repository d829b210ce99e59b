"""The sweep command: members, overrides, the results table and plots."""

import os

import pytest

from inpaintjax import config_base, sweep
from tests.conftest import REPO

CONFIG = os.path.join(REPO, 'configs', 'patch_cnn.py')


def test_sweeps_cover_the_ablation_grid_and_patch_sizes():
  ablation = sweep.load_sweep(CONFIG, 'ablation')
  assert len(ablation) == 32
  assert {m['model.act'] for m in ablation} == {'relu', 'sigmoid'}
  assert all(m['hole'] == 'center-3' for m in ablation)
  sizes = sweep.load_sweep(CONFIG, 'patch_size')
  assert [m['hole'] for m in sizes] == [f'center-{m}' for m in range(1, 7)]
  for members in (ablation, sizes):  # Every override names a real field.
    for m in members:
      config_base.apply_overrides(config_base.load_config(CONFIG), m)
  with pytest.raises(ValueError, match='Unknown sweep'):
    sweep.load_sweep(CONFIG, 'nope')


def test_overrides_reject_typos_and_cast_strings():
  config = config_base.load_config(CONFIG)
  with pytest.raises(KeyError, match='dense_widht'):
    config_base.apply_overrides(config, {'model.dense_widht': 3})
  config_base.apply_overrides(config, {'num_steps': '7', 'mask_channel': 'true',
                                       'optim.learning_rate': '0.5'}, from_strings=True)
  assert (config.num_steps, config.mask_channel, config.optim.learning_rate) == (7, True, 0.5)


def test_smoke_sweep_writes_table_and_plots(tmp_path, capsys):
  workdir = str(tmp_path)
  code = sweep.main([f'--config={CONFIG}:smoke', '--sweep=patch_size', f'--workdir={workdir}',
                     '--members=0,5', '--set', 'num_steps=2', 'eval_every=1', 'data.eval_limit=8'])
  assert code == 0
  table = open(os.path.join(workdir, 'results.md')).read()
  assert table.count('\n') == 2 + 2
  assert '| hole=center-6 |' in table
  plots = os.listdir(os.path.join(workdir, 'plots'))
  assert len(plots) == 3 and 'all.png' in plots
  _, losses, last = sweep.read_curve(os.path.join(workdir, 'hole=center-1'))
  assert len(losses) == 2 and 'train_loss' in last


def test_print_mode_gives_command_lines(capsys):
  assert sweep.main([f'--config={CONFIG}', '--sweep=patch_size', '--print']) == 0
  lines = capsys.readouterr().out.strip().splitlines()
  assert len(lines) == 6 and all('python -m inpaintjax.main' in x for x in lines)
  assert '--config.hole=center-6' in lines[-1]


def test_report_shows_the_accuracy_columns_that_members_log(tmp_path):
  import json
  for name, acc in (('a', 0.5), ('b', 0.75)):
    os.makedirs(tmp_path / name)
    with open(tmp_path / name / 'metrics.jsonl', 'w') as f:
      f.write(json.dumps({'step': 10, 'train/loss': 0.3}) + '\n')
      f.write(json.dumps({'step': 10, 'eval/loss': 0.2, 'eval/accuracy_multiple': 0.1,
                          'eval/accuracy_corrected_multiple': acc}) + '\n')
  table = sweep.write_report(str(tmp_path), ['a', 'b'])
  header = table.splitlines()[0]
  assert 'accuracy_corrected_multiple' in header and 'hole_psnr' not in header
  assert '| b | 0.3 | 0.2 | 0.1 | 0.75 |' in table
  assert os.path.exists(tmp_path / 'plots' / 'all.png')


def test_main_effects_rank_the_knob_that_moves_the_loss_first(tmp_path):
  import json
  members = [{'model.act': a, 'model.channels': c} for a in ('relu', 'sigmoid') for c in (16, 128)]
  names = [sweep.member_name(m) for m in members]
  losses = {('relu', 16): 0.10, ('relu', 128): 0.12, ('sigmoid', 16): 0.30, ('sigmoid', 128): 0.34}
  for name, m in zip(names, members):
    os.makedirs(tmp_path / name)
    with open(tmp_path / name / 'metrics.jsonl', 'w') as f:
      f.write(json.dumps({'step': 5, 'eval/loss': losses[m['model.act'], m['model.channels']],
                          'eval/hole_psnr': 20.0}) + '\n')
  table = sweep.write_report(str(tmp_path), names, members)
  effects = table.split('Main effects')[1].splitlines()
  knob_rows = [line for line in effects if line.startswith('| model.')]
  # act: means 0.11 vs 0.32 (spread 0.21); channels: 0.20 vs 0.23 (spread 0.03).
  assert knob_rows[0].startswith('| model.act | relu | 2 | 0.11 |')
  assert knob_rows[0].endswith('| 0.21 |')
  assert knob_rows[1].startswith('| model.channels | 16 | 2 | 0.2 |')
  assert sweep.main_effects(members[:1], [{}], ['loss']) == ''
  assert (tmp_path / 'plots' / 'knobs.png').stat().st_size > 0  # The effects over training.
