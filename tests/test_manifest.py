"""The repository's copy of the official-layout manifest is the shared fixture it was copied from."""

import json
import os

import pytest

SHARED = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..',
                                       'shared', 'fixtures', 'slim_resnet_v2_manifest.json'))


def test_the_copy_in_the_repository_equals_the_shared_fixture(manifest):
  assert sorted(manifest) == [f'resnet_v2_{depth}' for depth in (101, 152, 200, 50)]
  if not os.path.exists(SHARED):
    pytest.skip(f'{SHARED} is not beside this checkout')
  with open(SHARED, encoding='utf-8') as shared:
    assert json.load(shared) == manifest
