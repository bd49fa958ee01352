"""jobs-runtime: runs one shopcron handler against the product API, once, and exits.

Entry point: ``jobs-runtime`` (``jobs_runtime.__main__:main``). Configuration,
log lines and exit codes are described in docs/runtime.md.
"""

__version__ = "0.1.0"
