"""The CLI's two consoles: results on stdout, progress and errors on stderr.

Piped output (no terminal) gets 120 columns instead of rich's default 80, so wide
result tables stay legible in logs and CI output.
"""

from __future__ import annotations

import sys

from rich.console import Console

console = Console(width=None if sys.stdout.isatty() else 120)
error_console = Console(stderr=True)
