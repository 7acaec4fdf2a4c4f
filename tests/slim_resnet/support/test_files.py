"""Output files (slim_resnet/files.py): a path is checked without creating anything, and a file is
replaced atomically or not at all."""

import os

import pytest

from slim_resnet.support import files


def test_writable_paths_have_no_problem_and_nothing_is_created(tmp_path):
  assert files.output_path_problem(str(tmp_path / 'fine.json')) is None
  assert not (tmp_path / 'fine.json').exists()
  existing = tmp_path / 'existing.jsonl'
  existing.write_text('')
  assert files.output_path_problem(str(existing)) is None


def test_problems_are_one_short_reason(tmp_path):
  assert files.output_path_problem(str(tmp_path), 'step.json') == (
      'is a directory; give a file name, e.g. step.json')
  missing = tmp_path / 'missing' / 'step.json'
  assert files.output_path_problem(str(missing)) == (
      f'directory {tmp_path / "missing"} does not exist')


def test_a_virtual_file_system_is_refused_before_any_work():
  if not os.path.isdir('/proc/self'):
    pytest.skip('no /proc here')
  # Which check refuses it depends on who runs the test: root may "write" /proc, so creating the
  # file is what fails; anyone else is refused by the permission check first.
  if os.access('/proc', os.W_OK | os.X_OK):
    reason = 'No such file or directory'
  else:
    reason = 'not writable'
  assert files.output_path_problem('/proc/r.jsonl') == (
      f'cannot create a file in /proc ({reason})')


def test_unwritable_places_are_refused(tmp_path):
  locked = tmp_path / 'locked'
  locked.mkdir()
  read_only = tmp_path / 'read_only.json'
  read_only.write_text('')
  read_only.chmod(0o444)
  locked.chmod(0o500)
  try:
    if os.access(locked, os.W_OK):
      pytest.skip('running with permissions that ignore file modes (root)')
    assert files.output_path_problem(str(locked / 'step.json')).startswith(
        f'cannot create a file in {locked}')
    assert files.output_path_problem(str(read_only)).startswith('is not writable')
  finally:
    locked.chmod(0o700)


def test_atomic_output_replaces_the_file_when_complete(tmp_path):
  target = tmp_path / 'out.json'
  target.write_text('old')
  with files.atomic_output(str(target)) as stream:
    stream.write('new')
    assert target.read_text() == 'old'  # untouched until the block ends
  assert target.read_text() == 'new'
  assert os.listdir(tmp_path) == ['out.json']
  with files.atomic_output(str(tmp_path / 'out.bin'), binary=True) as stream:
    stream.write(b'\x00\x01')
  assert (tmp_path / 'out.bin').read_bytes() == b'\x00\x01'


@pytest.mark.parametrize('error', [RuntimeError, KeyboardInterrupt])
def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, error):
  target = tmp_path / 'out.json'
  target.write_text('old')
  with pytest.raises(error):
    with files.atomic_output(str(target)) as stream:
      stream.write('half')
      raise error()
  assert target.read_text() == 'old'
  assert os.listdir(tmp_path) == ['out.json']
