"""``arena kale ...``: KALE's pipeline from the shell (synthesis, KA training, evaluation).

Commands are registered on :data:`kale_app`; see ``docs/kale.md``.
"""

from __future__ import annotations

import typer

kale_app = typer.Typer(
    help="KALE: knowledge-graph path synthesis, knowledge-aware fine-tuning, evaluation.",
    no_args_is_help=True,
)
