"""Names of a package loaded on first use (PEP 562), so that importing the package imports nothing.

`import slim_resnet` must not import TensorFlow: the command-line entry points quiet TensorFlow's
start-up lines before anything imports it, and `bench` reads the family's facts without it.
"""

import importlib
import sys


def lazy_exports(package, exports):
  """The module-level `__getattr__` and `__dir__` of a package whose names load on first use.

  Args:
    package: the package's `__name__`.
    exports: {module: the names it defines that the package exports}.

  Returns:
    (__getattr__, __dir__), to be assigned at the package's top level. A name is imported from its
    module when first read, then kept in the package's namespace.
  """

  modules = {name: module for module, names in exports.items() for name in names}

  def __getattr__(name):
    if name not in modules:
      raise AttributeError(f'module {package!r} has no attribute {name!r}')
    value = getattr(importlib.import_module(modules[name]), name)
    setattr(sys.modules[package], name, value)
    return value

  def __dir__():
    return sorted(set(vars(sys.modules[package])) | set(modules))

  return __getattr__, __dir__
