"""Every `python -m inpaintjax...` command in the README and the config docstrings parses, in a
user's checkout: its flags, its config and overrides, and the files `prepare` makes that it
reads (a smoke copy of each). Nothing is trained."""

import ast
import glob
import os
import re

import numpy as np
import pytest

from inpaintjax import (benchmark, config_base, config_check, demo, evaluate, export, inpaint,
                        main, sweep)
from inpaintjax.data import prepare, sources
from tests.conftest import REPO

# Placeholders the documents use, and a value of the right kind for each.
PLACEHOLDERS = {'RUN': 'runs/x', 'RUN1': 'runs/x', 'RUN2': 'runs/y', 'CLASSIFIER_RUN': 'runs/c',
                'CORRECTOR_RUN': 'runs/x', 'DIR': 'runs/d', 'PATH': 'data/cifar10_test.npz',
                'METHOD': 'biharmonic', 'HOLE': 'center-8', 'ALPHA': '0.5', 'N': '10', 'S': '0',
                'CONFIG': 'configs/unet.py:smoke', 'NAME': 'patch_size'}


def documents():
  with open(os.path.join(REPO, 'README.md')) as f:
    yield 'README.md', f.read()
  for path in sorted(glob.glob(os.path.join(REPO, 'configs', '*.py'))):
    with open(path) as f:
      yield os.path.relpath(path, REPO), ast.get_docstring(ast.parse(f.read())) or ''


def commands(text: str) -> list[str]:
  """Each command, its continuation lines joined, without prose after it or optional parts."""
  text = re.sub(r'\\\n\s*', ' ', text.replace('```', '\n'))
  found = []
  for m in re.finditer(r'python -m inpaintjax[.\w]*', text):
    in_backticks = text[:m.start()].count('`') % 2 == 1
    rest = text[m.start():]
    cmd = rest[:rest.find('`')] if in_backticks else rest.split('\n')[0]
    cmd = re.split(r'\s(?:&&|\||;|#|->)\s|\s\(|\spython -m ', cmd)[0]
    cmd = re.sub(r'\[[^\]]*\]', ' ', cmd)  # Optional parts: [--limit=N].
    found.append([t for t in cmd.split() if t != '...'])
  return found


def substitute(token: str) -> str:
  """A placeholder (an all-capitals word: RUN, PATH, ...) replaced by a value of its kind."""
  return re.sub(r'\b[A-Z][A-Z0-9_]*\b', lambda m: PLACEHOLDERS.get(m[0], m[0]), token)


ALL = [(doc, cmd) for doc, text in documents() for cmd in commands(text)]


@pytest.fixture(scope='module')
def checkout(tmp_path_factory):
  """A user's checkout: the configs, and a smoke copy of every file `prepare` writes."""
  root = tmp_path_factory.mktemp('checkout')
  os.symlink(os.path.join(REPO, 'configs'), root / 'configs')
  (root / 'data').mkdir()
  rng = np.random.default_rng(0)
  for name, spec in prepare.SOURCES.items():
    shape = (32, 32, 3) if name == 'cifar10' else (28, 28, 1)
    for split in spec.splits:
      np.savez(root / 'data' / f'{name}_{split}.npz',
               images=rng.integers(0, 256, (8,) + shape, dtype=np.uint8),
               labels=rng.integers(0, 10, 8, dtype=np.uint8))
  return root


def check_data_files(tokens):
  """Every npz a command reads is one `prepare` writes (and its rows parse)."""
  for token in tokens:
    for part in re.findall(r'npz:([^\s+]+)', token):
      path, _ = sources.parse_rows(part)
      assert os.path.isfile(path), f'{token}: {path} is not a file prepare writes'
      sources.load_npz(path)


def test_the_documents_hold_commands_of_every_kind():
  kinds = {cmd[2] for _, cmd in ALL}
  assert {'inpaintjax.main', 'inpaintjax.evaluate', 'inpaintjax.sweep', 'inpaintjax.inpaint',
          'inpaintjax.data.prepare'} <= kinds
  assert len(ALL) > 40


@pytest.mark.parametrize('doc, cmd', ALL, ids=[f'{d}:{" ".join(c[2:4])[:60]}' for d, c in ALL])
def test_documented_command_parses(checkout, monkeypatch, doc, cmd):
  monkeypatch.chdir(checkout)
  module, args = cmd[2], [substitute(t) for t in cmd[3:]]
  del doc
  if module == 'inpaintjax.main':
    # The flags main defines, and --config.a.b=v applied as ml_collections' config flags do
    # (typed by the field, a misspelt field an error).
    flags = dict(a.removeprefix('--').partition('=')[::2] for a in args)
    assert set(flags) - {'config', 'workdir'} <= {f for f in flags if f.startswith('config.')}
    assert set(main.FLAGS) >= {'config', 'workdir'}
    config = config_base.load_config(flags.pop('config'))
    flags.pop('workdir', None)
    config_base.apply_overrides(config, {k[7:]: v for k, v in flags.items()}, from_strings=True)
    config_check.validate(config)
    check_data_files(args)
  elif module == 'inpaintjax.sweep':
    parsed = sweep.build_parser().parse_args(args)
    config = config_base.load_config(parsed.config)
    members = sweep.load_sweep(parsed.config, parsed.sweep)
    common = dict(item.partition('=')[::2] for item in parsed.set if '=' in item)
    for member in members[:1]:
      config_base.apply_overrides(config_base.load_config(parsed.config), member)
    config_base.apply_overrides(config, common, from_strings=True)
    check_data_files(parsed.set)
  elif module == 'inpaintjax.evaluate':
    parsed = evaluate.build_parser().parse_args(args)
    check_data_files([parsed.data])
  elif module == 'inpaintjax.benchmark':
    parsed = benchmark.build_parser().parse_args(args)
    check_data_files([parsed.data])
  elif module == 'inpaintjax.inpaint':
    inpaint.build_parser().parse_args(args)
  elif module == 'inpaintjax.export':
    export.build_parser().parse_args(args)
  elif module == 'inpaintjax.demo':
    demo.build_parser().parse_args(args)
  elif module == 'inpaintjax.data.prepare':
    parsed = prepare.build_parser().parse_args(args)
    assert parsed.name in prepare.SOURCES
  else:
    raise AssertionError(f'{module}: a command this test does not know')
