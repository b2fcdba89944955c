"""The decide/sample arithmetic game of the DS hypothesis (reconstructed; see ``env``).

:mod:`.config` the settings; :mod:`.problems` problems and near-miss distractors;
:mod:`.env` the PettingZoo AEC environment; :mod:`.summary` the table;
:mod:`.vector` the numpy-batched tabular setting with its gradient estimators;
:mod:`.wrappers` per-phase log-probs in ``infos``. Users
import the versioned module: ``from envs import decide_sample_v0``.
"""

from envs.decide_sample.config import DecideSampleConfig
from envs.decide_sample.env import DECIDER, POLICY, SAMPLER, SEATS, TWO_SEATS, env, raw_env
from envs.decide_sample.problems import Problem, make_problem, near_misses

__all__ = [
    "DECIDER",
    "POLICY",
    "SAMPLER",
    "SEATS",
    "TWO_SEATS",
    "DecideSampleConfig",
    "Problem",
    "env",
    "make_problem",
    "near_misses",
    "raw_env",
]
