"""slim_resnet.support.lazy: a package's names load on first use, and unknown names fail as usual."""

import subprocess
import sys

import pytest

import slim_resnet


def test_importing_the_package_imports_no_tensorflow():
  code = ('import sys, slim_resnet, slim_resnet.checkpoint; '
          'print("tensorflow" in sys.modules, slim_resnet.VALID_DEPTHS)')
  completed = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=60)
  assert completed.stdout.split(maxsplit=1) == ['False', '(50, 101, 152, 200)\n']


def test_a_name_is_loaded_from_its_module_and_kept():
  from slim_resnet import family
  assert slim_resnet.VALID_DEPTHS == family.VALID_DEPTHS
  assert 'VALID_DEPTHS' in vars(slim_resnet)
  assert 'resnet_v2_50' in dir(slim_resnet)


def test_an_unknown_name_is_an_attribute_error_naming_it():
  with pytest.raises(AttributeError, match="'slim_resnet' has no attribute 'resnet_v2_18'"):
    slim_resnet.resnet_v2_18  # noqa: B018
