"""The ``matcher`` command line — the composition root, the one package that imports every layer.

One small module per command group; errors are one clear line and a non-zero exit code
(``--debug`` shows the traceback).
"""

from cli.main import main

__all__ = ["main"]
