"""The package's import graph: no circle, and no import of the package inside a function (the
way a circle is usually hidden)."""

import ast
import os

from tests.conftest import REPO

PACKAGE = os.path.join(REPO, 'inpaintjax')


def modules() -> dict[str, ast.Module]:
  found = {}
  for root, _, files in os.walk(PACKAGE):
    for name in files:
      if name.endswith('.py'):
        path = os.path.join(root, name)
        module = os.path.relpath(path[:-3], REPO).replace(os.sep, '.').removesuffix('.__init__')
        with open(path) as f:
          found[module] = ast.parse(f.read())
  return found


def imported(tree: ast.Module, known) -> set[str]:
  """The package modules a module imports (from X import Y: X.Y when that is a module)."""
  out = set()
  for node in ast.walk(tree):
    if isinstance(node, ast.ImportFrom) and (node.module or '').startswith('inpaintjax'):
      for alias in node.names:
        full = f'{node.module}.{alias.name}'
        out.add(full if full in known else node.module)
    elif isinstance(node, ast.Import):
      out.update(a.name for a in node.names if a.name.startswith('inpaintjax'))
  return {m for m in out if m in known}


def test_no_import_circle():
  trees = modules()
  graph = {m: imported(t, trees) - {m} for m, t in trees.items()}
  for m, deps in graph.items():  # Importing a.b.c runs a.b's __init__ first.
    for d in list(deps):
      parts = d.split('.')
      deps.update(p for p in ('.'.join(parts[:i]) for i in range(2, len(parts)))
                  if p in graph and not m.startswith(p + '.') and p != m)
  state, path = {}, []

  def visit(m):
    state[m] = 'open'
    path.append(m)
    for d in sorted(graph[m]):
      assert state.get(d) != 'open', 'import circle: ' + ' -> '.join(path[path.index(d):] + [d])
      if d not in state:
        visit(d)
    path.pop()
    state[m] = 'done'

  for m in sorted(graph):
    if m not in state:
      visit(m)


def test_no_package_import_inside_a_function():
  for module, tree in modules().items():
    for fn in ast.walk(tree):
      if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        for node in ast.walk(fn):
          if isinstance(node, ast.ImportFrom) and (node.module or '').startswith('inpaintjax'):
            raise AssertionError(f'{module}.{fn.name} imports {node.module} inside a function')
