"""slim_resnet's layout: the public import paths keep working, and dependencies point one way.

The network is the package's top level (what `import slim_resnet` gives); `checkpoint/`, `images/`
and `extraction/` use it; `support/` holds helpers shared with `bench` and uses nothing of ours.
"""

import ast
import importlib
import pathlib
import subprocess
import sys

import pytest

import slim_resnet
from slim_resnet import checkpoint

PACKAGE = pathlib.Path(slim_resnet.__file__).parent
REPO = PACKAGE.parent
# What each part may import from slim_resnet besides itself. A part is a sub-folder, or the command
# `extract`; every other module (and every name `slim_resnet` exports) is the network.
ALLOWED = {
    'support': set(),
    'network': {'support'},
    'images': {'network', 'support'},
    'checkpoint': {'network', 'support'},
    'extraction': {'network', 'support', 'checkpoint', 'images'},
    'extract': {'network', 'support', 'checkpoint', 'images', 'extraction'},
}


def part_of(module):
  """'slim_resnet.images.folder' -> 'images'; 'slim_resnet.resnet_v2' (or 'slim_resnet') -> 'network'."""
  first = (module.split('.') + [''])[1]
  return first if first in ALLOWED else 'network'


def imported_modules(path):
  """The slim_resnet modules a file imports (`from slim_resnet import x` names x's module)."""
  found = set()
  for node in ast.walk(ast.parse(path.read_text())):
    if isinstance(node, ast.Import):
      found.update(alias.name for alias in node.names if alias.name.startswith('slim_resnet'))
    elif isinstance(node, ast.ImportFrom) and (node.module or '').startswith('slim_resnet'):
      if node.module == 'slim_resnet':
        found.update(f'slim_resnet.{alias.name}' for alias in node.names)
      else:
        found.add(node.module)
  return found


def modules_of_package():
  for path in sorted(PACKAGE.rglob('*.py')):
    name = '.'.join(('slim_resnet', *path.relative_to(PACKAGE).with_suffix('').parts))
    yield name.removesuffix('.__init__'), path


@pytest.mark.parametrize('module,path', list(modules_of_package()), ids=lambda value: str(value))
def test_each_part_imports_only_what_it_builds_on(module, path):
  part = part_of(module)
  for imported in imported_modules(path):
    target = part_of(imported)
    assert target == part or target in ALLOWED[part], f'{module} ({part}) imports {imported} ({target})'


def test_bench_uses_no_part_of_the_extraction_command():
  for path in sorted((REPO / 'bench').rglob('*.py')):
    for imported in imported_modules(path):
      assert part_of(imported) not in ('extraction', 'extract'), f'{path} imports {imported}'


def test_the_tf_slim_paths_keep_working():
  from slim_resnet import resnet_utils, resnet_v2
  assert resnet_v2.resnet_v2_50 is slim_resnet.resnet_v2.resnet_v2_50
  assert resnet_utils.Block is slim_resnet.resnet_utils.Block
  assert importlib.import_module('slim_resnet.resnet_v2').resnet_v2 is resnet_v2.resnet_v2


@pytest.mark.parametrize('package', [slim_resnet, checkpoint], ids=lambda package: package.__name__)
def test_every_exported_name_resolves(package):
  for name in package.__all__:
    assert getattr(package, name) is not None, name


def test_the_documented_module_paths_keep_working():
  from slim_resnet import preprocessing
  from slim_resnet.batch_norm import batch_norm
  assert checkpoint.restore_checkpoint.__module__ == 'slim_resnet.checkpoint.restore'
  assert callable(preprocessing.preprocess) and callable(batch_norm)


def test_the_extraction_command_keeps_its_module_path():
  completed = subprocess.run([sys.executable, '-m', 'slim_resnet.extract', '--help'], cwd=REPO,
                             capture_output=True, text=True, timeout=120)
  assert completed.returncode == 0, completed.stderr
  assert completed.stdout.startswith('usage: python -m slim_resnet.extract')
