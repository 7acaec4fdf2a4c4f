"""slim_resnet.support.wording: name lists cut after a few, counted nouns."""

from slim_resnet.support import wording


def test_listing_cuts_long_lists():
  assert wording.listing(['a', 'b']) == 'a, b'
  assert wording.listing([]) == ''
  assert wording.listing(f'n{i}' for i in range(10)) == 'n0, n1, n2, n3, n4, n5, n6, n7 and 2 more'
  assert wording.listing(['x', 'y', 'z'], 2, '; ') == 'x; y and 1 more'


def test_plural():
  assert wording.plural(1, 'variable') == '1 variable'
  assert wording.plural(0, 'variable') == '0 variables'
  assert wording.plural(2, 'mismatch', 'mismatches') == '2 mismatches'
