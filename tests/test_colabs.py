"""The Colab notebooks run headless (nbclient) on CPU with smoke settings."""

import os

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import REPO

NOTEBOOKS = ['quickstart.ipynb', 'full_config.ipynb', 'losses_and_masks.ipynb']


@pytest.mark.parametrize('name', NOTEBOOKS)
def test_notebook_runs(name, monkeypatch):
  monkeypatch.setenv('INPAINTJAX_NOTEBOOK_SMOKE', '1')
  monkeypatch.setenv('PYTHONPATH', REPO)
  monkeypatch.setenv('MPLBACKEND', 'Agg')
  nb = nbformat.read(os.path.join(REPO, 'colabs', name), as_version=4)
  NotebookClient(nb, timeout=600, kernel_name='python3',
                 resources={'metadata': {'path': REPO}}).execute()
  outputs = [o for cell in nb.cells if cell.cell_type == 'code' for o in cell.outputs]
  assert not [o for o in outputs if o.output_type == 'error']
  text = ''.join(o.get('text', '') for o in outputs)
  if name == 'losses_and_masks.ipynb':
    assert 'bits/dim 8.0' in text
  else:
    assert 'hole_psnr' in text  # The evaluator's table was printed.
