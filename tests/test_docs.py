"""README.md and docs/*.md: every command line they show parses, every link between them resolves.

Command lines: every `python -m bench ...` (and its verbs `compare` and `plot`) and
`python -m slim_resnet.extract ...` in a shell code block or in inline code, continuation lines
joined, comments, redirections, pipes and `&&` chains cut off, leading `VAR=value` assignments
dropped, is parsed by the real parser of its verb: parsed only, nothing is run. A usage synopsis
(`[--flag PCT]`, `...`, `a|b`) is not a command line: each flag it names must be one of the verb's.
In a code block with `$ ` prompts, only the prompted lines are commands (the rest is output).

Links: every relative `[text](path#anchor)` between the pages names a file that exists, and an
anchor names a heading of that file by GitHub's rule.

Python snippets: every ```python block of a page runs, as written, in one fresh process per page
(the page's blocks in order, sharing their names, as a reader types them into one session), in a
folder holding the files they read (`SNIPPET_FILES`: a checkpoint of the official layout, records,
a features file). A block whose info string says `child-processes` starts child processes of the
harness and stands alone (its own imports; `test_blocks_that_start_child_processes_stand_alone`):
the slow test runs a page's such blocks, the fast one all the others. The harness's pages run with
the stand-in network (BENCH_TEST_NETWORK=small, docs/development.md): the calls are what is
checked, not resnet_v2_50's figures. The library must stay quiet there: no
TensorFlow C++ log line on stderr, with no TF_CPP_MIN_LOG_LEVEL set.
"""

import contextlib
import dataclasses
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / 'README.md', *sorted((ROOT / 'docs').glob('*.md'))]


def bench_parser_builders():
  """{verb: function building its argparse parser}; None is `python -m bench` itself. The one place
  that names the modules of bench's command line (see bench/verbs/cli.py's dispatch)."""
  from bench.verbs import compare_cli, flags, make_data_cli, plot_cli
  return {None: flags.build_parser, 'compare': compare_cli.build_parser, 'plot': plot_cli.build_parser,
          'make-data': make_data_cli.build_parser}


def extract_parser():
  """The parser of `python -m slim_resnet.extract` (importing it imports TensorFlow)."""
  from slim_resnet.extraction import flags as extract_flags
  return extract_flags.build_parser('python -m slim_resnet.extract')


# --- reading the pages -------------------------------------------------------------------------

SHELL_FENCES = {'', 'sh', 'bash', 'shell', 'console', 'text'}
FENCE = re.compile(r'^ {0,3}(```+|~~~+)\s*([\w+-]*)')
INLINE_CODE = re.compile(r'(`+)(.+?)\1', re.S)
LINK = re.compile(r'!?\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)')
HEADING = re.compile(r'^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$')
SHELL_OPERATORS = {'|', '||', '&&', '&', ';', '(', ')'}
REDIRECTIONS = {'>', '>>', '<', '<<', '>&', '<&', '&>', '>|'}
MODULES = ('bench', 'slim_resnet.extract')


@dataclasses.dataclass(frozen=True)
class Command:
  """A command line found in a page."""

  page: str  # relative to the repository
  line: int  # 1-based, where the command starts
  text: str  # as written (continuations joined)
  module: str  # 'bench' or 'slim_resnet.extract'
  verb: str | None  # 'compare', 'plot' or None (python -m bench itself; always None for extract)
  args: tuple[str, ...]  # after the module (and verb)
  synopsis: bool  # a usage synopsis, not a command line

  def __str__(self):
    return f'{self.page}:{self.line}: {self.text}'


@dataclasses.dataclass(frozen=True)
class Link:
  """A relative link found in a page."""

  page: str  # relative to the repository
  line: int
  target: str
  source: Path  # the page's file

  def __str__(self):
    return f'{self.page}:{self.line}: ({self.target})'


def _relative(path: Path) -> str:
  return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name


def split_page(lines):
  """(prose, blocks): prose as [(line number, text)] with code blocks blanked out, and the shell
  code blocks as [(first line number, [line texts])]."""
  prose, blocks = [], []
  fence = None  # (marker, info, start line, lines) inside a fenced block
  for number, line in enumerate(lines, 1):
    match = FENCE.match(line)
    if fence is None and match:
      fence = (match.group(1), match.group(2).lower(), number + 1, [])
      prose.append((number, ''))
    elif fence is not None:
      if line.strip().startswith(fence[0][0] * len(fence[0])) and not line.strip().strip(fence[0][0]):
        if fence[1] in SHELL_FENCES:
          blocks.append((fence[2], fence[3]))
        fence = None
      else:
        fence[3].append(line)
      prose.append((number, ''))
    else:
      prose.append((number, line))
  return prose, blocks


def _indented_blocks(prose):
  """Indented code blocks (4 spaces after a blank line, outside lists) as (line number, [lines])."""
  blocks, current, previous_blank = [], None, True
  for number, line in prose:
    if current is not None:
      if line.startswith('    ') or not line.strip():
        current[1].append(line[4:])
        continue
      blocks.append(current)
      current = None
    if previous_blank and line.startswith('    ') and not line.lstrip().startswith(('- ', '* ', '|')):
      current = (number, [line[4:]])
    previous_blank = not line.strip()
  if current is not None:
    blocks.append(current)
  return blocks


def _joined(first_line, lines):
  """Shell lines with backslash continuations joined: [(line number, text)]."""
  joined, pending, start = [], '', None
  for number, line in enumerate(lines, first_line):
    if start is None:
      start = number
    if line.rstrip().endswith('\\'):
      pending += line.rstrip()[:-1] + ' '
      continue
    joined.append((start, pending + line))
    pending, start = '', None
  if pending:
    joined.append((start, pending))
  return joined


def _shell_lines(first_line, lines):
  """The command lines of a code block: its `$ ` lines if it has any (the rest is output), else all."""
  joined = [(number, text.strip()) for number, text in _joined(first_line, lines)]
  if any(text.startswith('$ ') for _, text in joined):
    return [(number, text[2:]) for number, text in joined if text.startswith('$ ')]
  return [(number, text) for number, text in joined if text and not text.startswith('#')]


def _inline_spans(prose):
  """Inline code spans of the prose, paragraph by paragraph (a span may cross a line break):
  [(line number, text)]."""
  spans = []
  paragraph = []
  for number, line in [*prose, (None, '')]:
    if line.strip():
      paragraph.append((number, line))
      continue
    if paragraph:
      text = '\n'.join(part for _, part in paragraph)
      for match in INLINE_CODE.finditer(text):
        spans.append((paragraph[0][0] + text.count('\n', 0, match.start()), ' '.join(match.group(2).split())))
    paragraph = []
  return spans


def _tokens(text):
  """Shell words, comments dropped, operators as their own words; None if it is not shell syntax."""
  lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
  lexer.whitespace_split = True
  lexer.commenters = '#'
  try:
    return list(lexer)
  except ValueError:
    return None


def _commands_in(page, number, text):
  """The commands of one shell line: each `&&`/`;`/`|` segment that runs python -m MODULE."""
  words = _tokens(text)
  if not words:
    return []
  segments, current = [], []
  for word in words:
    if word in SHELL_OPERATORS:
      segments.append(current)
      current = []
    else:
      current.append(word)
  segments.append(current)
  commands = []
  for segment in segments:
    cut = next((i for i, word in enumerate(segment) if word in REDIRECTIONS), len(segment))
    if 0 < cut < len(segment) and segment[cut - 1].isdigit() and f' {segment[cut - 1]}>' in f' {text}':
      cut -= 1  # '2>' is one redirection
    segment = segment[:cut]
    for i in range(len(segment) - 2):
      if (Path(segment[i]).name in ('python', 'python3') and segment[i + 1] == '-m'
          and segment[i + 2] in MODULES):
        module, rest = segment[i + 2], segment[i + 3:]
        if rest and rest[0].endswith(':'):
          break  # 'python -m bench compare: ...': a message the program printed, not a command
        verbs = ('compare', 'plot', 'make-data')
        verb = rest[0] if module == 'bench' and rest[:1] and rest[0] in verbs else None
        args = tuple(rest[1:] if verb else rest)
        synopsis = '...' in text or any(re.search(r'[\[\]|]', word) for word in args)
        commands.append(Command(page, number, text.strip(), module, verb, args, synopsis))
        break
  return commands


def collect(paths=PAGES):
  """(commands, links) of the pages."""
  commands, links = [], []
  for path in paths:
    page = _relative(path)
    lines = path.read_text(encoding='utf-8').splitlines()
    prose, blocks = split_page(lines)
    for first, block in blocks + _indented_blocks(prose):
      for number, text in _shell_lines(first, block):
        commands.extend(_commands_in(page, number, text))
    for number, span in _inline_spans(prose):
      # A bare name (`python -m bench`, `python -m bench plot`) names the program: not a command.
      commands.extend(c for c in _commands_in(page, number, span) if c.args or c.synopsis)
    for number, line in prose:
      without_code = INLINE_CODE.sub('', line)
      for match in LINK.finditer(without_code):
        target = match.group(2)
        if not re.match(r'[a-z][a-z0-9+.-]*:', target, re.I):  # not http:, mailto:, ...
          links.append(Link(page, number, target, path))
  return commands, links


def github_anchor(heading):
  """The anchor GitHub gives a heading: markup dropped, lower case, every character but letters,
  digits, '_', '-' and spaces dropped, spaces to '-'."""
  text = re.sub(r'!?\[([^\]]*)\]\([^)]*\)', r'\1', heading)  # links: their text
  text = re.sub(r'`+|\*+|(?<!\w)_+|_+(?!\w)', '', text)  # code and emphasis marks
  text = re.sub(r'<[^>]+>', '', text).strip().lower()
  return re.sub(r'[^\w\- ]', '', text).replace(' ', '-')


def anchors(path):
  """Every heading anchor of a page, duplicates numbered as GitHub does (-1, -2, ...)."""
  prose, _ = split_page(path.read_text(encoding='utf-8').splitlines())
  seen, result = {}, set()
  for _, line in prose:
    match = HEADING.match(line)
    if not match:
      continue
    anchor = github_anchor(match.group(2))
    count = seen.get(anchor, 0)
    seen[anchor] = count + 1
    result.add(anchor if count == 0 else f'{anchor}-{count}')
  return result


COMMANDS, LINKS = collect()


# --- the checks --------------------------------------------------------------------------------


def _parser_of(command):
  if command.module == 'slim_resnet.extract':
    return extract_parser()
  return bench_parser_builders()[command.verb]()


def parse_problem(command):
  """None if the command parses with its verb's parser, else what the parser said."""
  parser = _parser_of(command)
  parser.allow_abbrev = False  # the pages spell every flag in full (argparse would take '--num-batch')
  if command.synopsis:
    known = set(parser._option_string_actions)  # every flag of the verb
    unknown = [word.strip('[]') for word in command.args if word.strip('[]').startswith('-')
               and word.strip('[]').split('=')[0] not in known]
    return f'unknown flags {unknown}' if unknown else None
  out, err = io.StringIO(), io.StringIO()
  try:
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
      parser.parse_args(list(command.args))
  except SystemExit as stop:  # --help (0), or a parser that exits on an error (extract's)
    return None if stop.code in (0, None) else (err.getvalue().strip() or f'exit {stop.code}')
  except Exception as error:  # noqa: BLE001 - bench's parsers raise UsageError
    return f'{type(error).__name__}: {error}'
  return None


@pytest.mark.parametrize('command', COMMANDS, ids=[f'{c.page}:{c.line}' for c in COMMANDS])
def test_every_command_line_parses(command):
  assert (problem := parse_problem(command)) is None, f'{command}\n  does not parse: {problem}'


def link_problem(link):
  """None if the link resolves, else why not."""
  path_part, _, anchor = link.target.partition('#')
  target = (link.source.parent / path_part).resolve() if path_part else link.source
  if not target.exists():
    return f'{path_part} does not exist'
  if anchor:
    if target.suffix != '.md':
      return f'#{anchor} on a file that is not a page'
    if anchor not in anchors(target):
      return f'no heading of {target.name} has the anchor #{anchor}'
  return None


@pytest.mark.parametrize('link', LINKS, ids=[f'{link.page}:{link.line}:{link.target}' for link in LINKS])
def test_every_link_between_the_pages_resolves(link):
  assert (problem := link_problem(link)) is None, f'{link}: {problem}'


def test_the_pages_show_command_lines_and_link_to_each_other():
  """The collection itself works: the quick start's commands and each docs page are found."""
  pages_with_commands = {command.page for command in COMMANDS}
  assert 'README.md' in pages_with_commands
  assert any(c.args == ('--depth', '50', '--batch', '8', '--num-batches', '20') for c in COMMANDS)
  assert {c.verb for c in COMMANDS} >= {None, 'compare', 'plot'}
  assert any(c.module == 'slim_resnet.extract' for c in COMMANDS)
  index = ROOT / 'docs' / 'README.md'
  linked = {(index.parent / link.target.partition('#')[0]).resolve()
            for link in LINKS if link.page == 'docs/README.md'}
  assert {path.resolve() for path in PAGES if path != index} <= linked, 'a docs page missing from the index'


def test_a_broken_command_line_or_link_is_caught(tmp_path):
  """What the collector makes of a page, and that the checks fail on a wrong flag or anchor."""
  page = tmp_path / 'page.md'
  page.write_text(
      '# A page\n\n## Two words\n\n'
      '```sh\nBENCH_TEST_FAULT=oom:50:*:* python -m bench --depth 50 \\\n'
      '    --batch 8 2> out.txt  # a comment\n'
      'pip install . && .venv/bin/python -m bench compare a.jsonl b.jsonl --no-such-flag | head\n```\n\n'
      '```\n$ python -m bench plot r.jsonl -o r.png\n'
      'python -m bench compare: a message, not a command\n```\n\n'
      'Inline `python -m bench --depth 50\n--num-batches x` and `python -m bench plot` (a name).\n\n'
      'Abbreviated: `python -m bench --num-batch 5`.\n\n'
      '[ok](#two-words), [missing](#three-words), [gone](nowhere.md)\n',
      encoding='utf-8')
  found_commands, found_links = collect([page])
  assert [(c.line, c.verb, c.args) for c in found_commands] == [
      (6, None, ('--depth', '50', '--batch', '8')),
      (8, 'compare', ('a.jsonl', 'b.jsonl', '--no-such-flag')),
      (12, 'plot', ('r.jsonl', '-o', 'r.png')),
      (16, None, ('--depth', '50', '--num-batches', 'x')),
      (19, None, ('--num-batch', '5')),
  ]
  assert [parse_problem(c) is None for c in found_commands] == [True, False, True, False, False]
  assert [link.target for link in found_links] == ['#two-words', '#three-words', 'nowhere.md']
  assert [link_problem(link) is None for link in found_links] == [True, False, False]
  assert github_anchor("How this differs from tf-slim's own `nets/resnet_v2`") == (
      'how-this-differs-from-tf-slims-own-netsresnet_v2')
  assert github_anchor('The largest batch: `--batch max`') == 'the-largest-batch---batch-max'


# --- Python snippets ---------------------------------------------------------------------------

PYTHON_FENCES = {'python', 'py', 'python3'}
CHILD_PROCESSES = 'child-processes'  # the info-string word of a block that starts child processes
RECORDS = ROOT / 'tests' / 'bench' / 'data' / 'schema1_records.jsonl'
MANIFEST = ROOT / 'tests' / 'data' / 'slim_resnet_v2_manifest.json'


@dataclasses.dataclass(frozen=True)
class Snippet:
  """A ```python block of a page."""

  page: str  # relative to the repository
  line: int  # 1-based, its first line of code
  code: str
  starts_children: bool  # its info string says CHILD_PROCESSES


def python_snippets(path):
  """The ```python blocks of a page, in order."""
  snippets, fence = [], None  # (marker, words of the info string, first line, lines)
  for number, line in enumerate(path.read_text(encoding='utf-8').splitlines(), 1):
    if fence is None:
      match = FENCE.match(line)
      if match:
        fence = (match.group(1), line.strip()[len(match.group(1)):].split(), number + 1, [])
    elif line.strip().startswith(fence[0]) and not line.strip().strip(fence[0][0]):
      words = [word.lower() for word in fence[1]]
      if words[:1] and words[0] in PYTHON_FENCES:
        snippets.append(Snippet(_relative(path), fence[2], '\n'.join(fence[3]) + '\n',
                                CHILD_PROCESSES in words[1:]))
      fence = None
    else:
      fence[3].append(line)
  return snippets


SNIPPETS = [snippet for path in PAGES for snippet in python_snippets(path)]
SNIPPET_PAGES = list(dict.fromkeys(snippet.page for snippet in SNIPPETS))


def _official_checkpoint(prefix):
  """Code that saves a checkpoint of resnet_v2_50's official layout (1001 classes, zeros)."""
  return f"""
import json, os
import tensorflow as tf
os.makedirs(os.path.dirname({str(prefix)!r}), exist_ok=True)
with tf.Graph().as_default():
  layout = json.load(open({str(MANIFEST)!r}))['resnet_v2_50']['global_variables']
  made = [tf.compat.v1.get_variable(name, shape, initializer=tf.compat.v1.zeros_initializer())
          for name, shape in layout.items()]
  with tf.compat.v1.Session() as session:
    session.run(tf.compat.v1.global_variables_initializer())
    tf.compat.v1.train.Saver(made).save(session, {str(prefix)!r}, write_meta_graph=False)
"""


def _features_file(path):
  """Code that writes a features file as `python -m slim_resnet.extract` does (3 images)."""
  return f"""
import numpy as np
np.savez({str(path)!r}, global_pool=np.zeros([3, 1, 1, 2048], np.float32),
         files=np.array(['a/1.jpg', 'a/2.jpg', 'b/3.jpg']), labels=np.array([0, 0, 1]),
         class_names=np.array(['a', 'b']), skipped_files=np.array([], str))
"""


def snippet_files(page, folder):
  """Prepares `folder` with the files the page's snippets read; returns setup code to run before
  them (in the same process), for files that need TensorFlow or NumPy to be made."""
  setup = ''
  if page == 'docs/model.md':
    setup = _official_checkpoint(folder / 'ckpts' / 'resnet_v2_50.ckpt')
    setup += _features_file(folder / 'features.npz')
  for name in ('results.jsonl', 'a.jsonl', 'b.jsonl', 'base.jsonl', 'new.jsonl'):
    shutil.copy(RECORDS, folder / name)
  return setup


_RUNNER = """
import json, sys
setup, page, blocks = json.load(sys.stdin)
exec(compile(setup, '<the snippets\\' files>', 'exec'), {})
names = {'__name__': '__main__'}
for line, code in blocks:
  exec(compile('\\n' * (line - 1) + code, page, 'exec'), names)  # tracebacks name the page's lines
"""


def run_snippets(page, snippets, folder, setup=''):
  """Runs the snippets in one fresh Python process in `folder`; returns the CompletedProcess."""
  env = {key: value for key, value in os.environ.items() if key != 'TF_CPP_MIN_LOG_LEVEL'}
  env.update(PYTHONPATH=str(ROOT), MPLBACKEND='Agg')
  if page.startswith('docs/') and page != 'docs/model.md':
    env['BENCH_TEST_NETWORK'] = 'small'
  blocks = [(snippet.line, snippet.code) for snippet in snippets]
  return subprocess.run([sys.executable, '-c', _RUNNER], input=json.dumps([setup, page, blocks]), cwd=folder,
                        env=env, capture_output=True, text=True, timeout=900)


def snippet_problem(page, snippets, folder):
  """None if the page's snippets run (and the harness says nothing of TensorFlow's), else why."""
  done = run_snippets(page, snippets, folder, snippet_files(page, folder))
  if done.returncode != 0:
    return f'{page}: a snippet failed:\n{done.stderr[-3000:]}'
  from slim_resnet.support.quiet import is_native_log_line
  noise = [line for line in done.stderr.splitlines() if is_native_log_line(line)]
  if noise and page != 'docs/model.md':  # the model's page imports TensorFlow itself
    return f'{page}: TensorFlow log lines on stderr: {noise[:3]}'
  return None


@pytest.mark.parametrize('page', SNIPPET_PAGES)
def test_every_python_snippet_runs_as_written(page, tmp_path):
  snippets = [snippet for snippet in SNIPPETS if snippet.page == page and not snippet.starts_children]
  problem = snippet_problem(page, snippets, tmp_path)
  assert problem is None, problem


@pytest.mark.slow
@pytest.mark.parametrize('page', sorted({s.page for s in SNIPPETS if s.starts_children}))
def test_python_snippets_that_start_child_processes_run_as_written(page, tmp_path):
  snippets = [snippet for snippet in SNIPPETS if snippet.page == page and snippet.starts_children]
  problem = snippet_problem(page, snippets, tmp_path)
  assert problem is None, problem


def free_names(code):
  """The names a block reads that it neither binds nor finds among Python's builtins."""
  import ast
  import builtins
  loaded, bound = set(), set()
  for node in ast.walk(ast.parse(code)):
    if isinstance(node, ast.Name):
      (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
    elif isinstance(node, ast.alias):
      bound.add(node.asname or node.name.partition('.')[0])
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
      bound.add(node.name)
    elif isinstance(node, ast.arg):
      bound.add(node.arg)
    elif isinstance(node, ast.ExceptHandler) and node.name:
      bound.add(node.name)
  return loaded - bound - set(dir(builtins))


def test_blocks_that_start_child_processes_stand_alone():
  """The slow test runs them without the page's other blocks: each binds every name it reads."""
  needing = {(s.page, s.line): free_names(s.code) for s in SNIPPETS if s.starts_children}
  assert needing and not any(needing.values()), needing


def test_the_python_snippets_are_found_and_a_failing_one_names_its_line(tmp_path):
  assert {'docs/model.md', 'docs/python-api.md', 'docs/records.md'} <= set(SNIPPET_PAGES)
  assert any(snippet.starts_children for snippet in SNIPPETS)
  page = tmp_path / 'page.md'
  page.write_text('# A page\n\n```python\nx = 2\n```\n\n```sh\nx = 3\n```\n\n'
                  '```python child-processes\ny = x * 2\n\nassert y == 5, y\n```\n', encoding='utf-8')
  found = python_snippets(page)
  assert [(s.line, s.code, s.starts_children) for s in found] == [
      (4, 'x = 2\n', False), (12, 'y = x * 2\n\nassert y == 5, y\n', True)]
  assert free_names(found[1].code) == {'x'}  # it would not stand alone
  done = run_snippets('page.md', found, tmp_path)
  assert done.returncode == 1
  assert 'File "page.md", line 14' in done.stderr and 'AssertionError: 4' in done.stderr
