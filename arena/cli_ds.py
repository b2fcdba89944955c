"""``arena ds ...``: the decide/sample experiments (which training signal moves which part).

Commands are registered on :data:`ds_app`; see ``docs/ds.md``.
"""

from __future__ import annotations

import typer

ds_app = typer.Typer(
    help="Decide/sample: RL vs SFT, gradient attribution by component, swaps and sweeps.",
    no_args_is_help=True,
)
