"""``python -m agents.tiny [PATH] [--family qwen2|llama] [--seed N] [--force]``.

Builds the offline tiny model (once) and prints its directory; ``arena tiny build`` is the
same thing behind the main CLI.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agents.tiny import default_tiny_path, ensure_tiny_model
from envs.errors import ArenaError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agents.tiny", description=__doc__)
    parser.add_argument("path", nargs="?", type=Path, help=f"default: {default_tiny_path()}")
    parser.add_argument("--family", choices=("qwen2", "llama"), default="qwen2")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="rebuild even if it exists")
    args = parser.parse_args(argv)
    try:
        path = ensure_tiny_model(args.path, family=args.family, seed=args.seed, force=args.force)
    except ArenaError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
