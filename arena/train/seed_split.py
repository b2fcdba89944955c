"""Training and held-out seed prompts, drawn once per run (MAGIC and RAPO share it).

Both recipes train on some of the pool's seeds and evaluate on others, with the same
harmful/benign mix in each. Drawing from a caller's ``random.Random`` keeps each recipe's
stream its own (MAGIC shuffles the training seeds with the same generator afterwards).
"""

from __future__ import annotations

import random

from envs.attack_defense.data import Seed, load_pool
from envs.errors import ArenaError


def split_seeds(
    pool_spec: str,
    rng: random.Random,
    num_seeds: int,
    eval_seeds: int,
    harmful_fraction: float,
) -> tuple[list[Seed], list[Seed]]:
    """(training seeds, held-out seeds): disjoint, each ``harmful_fraction`` harmful.

    Raises :class:`ArenaError` when the pool has too few seeds of a kind.
    """
    pool = load_pool(pool_spec)
    n_total = num_seeds + eval_seeds
    n_harmful = round(n_total * harmful_fraction)
    picked: dict[str, list[Seed]] = {}
    for label, items, count in (
        ("harmful", list(pool.harmful), n_harmful),
        ("benign", list(pool.benign), n_total - n_harmful),
    ):
        if len(items) < count:
            raise ArenaError(
                f"The seed pool has {len(items)} {label} seeds; the run needs {count}.",
                "lower --num-seeds / --eval-seeds or add seeds (--seeds 'FILE,builtin-benign').",
            )
        rng.shuffle(items)
        picked[label] = items[:count]
    n_eval_h = round(eval_seeds * harmful_fraction)
    n_eval_b = eval_seeds - n_eval_h
    held_out = picked["harmful"][:n_eval_h] + picked["benign"][:n_eval_b]
    train = picked["harmful"][n_eval_h:] + picked["benign"][n_eval_b:]
    return train, held_out
