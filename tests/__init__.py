"""pocnet's tests.

Compiled files are kept even where the environment says PYTHONDONTWRITEBYTECODE (this package is imported
before any test module or conftest): without them every test process (one per core) and every pocnet
process a test starts compiles pocnet and rewrites the tests again, seconds each time. They go to
__pycache__/, which git ignores.
"""

import os
import sys

sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
