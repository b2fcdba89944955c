"""``arena play ENV``: agents in every seat of any registered game, episodes to a run folder.

The match spec is the same for every game (DESIGN: "Match spec"): an environment name,
its config (the environment module's own dataclass), one or more agent specs per seat
and a judge spec. Each combination of one spec per seat is a *matchup*; every matchup
plays the same episode seeds (episode ``i`` uses seed ``seed + i`` unless
``episode_seeds`` are given), so rows are paired comparisons.

Two phases so that a bad command leaves nothing behind: :func:`prepare` checks every
input (settings first, then data, judge and agents — cheapest first) and builds
everything, and :func:`run` plays and writes. From Python::

    from arena.play import PlayConfig, play
    result = play(PlayConfig(env="strategy_game",
                             seats={"attacker": ["tabular:uniform"], "defender": ["tabular:nash"]},
                             episodes=2000))
    print(result.summary.table.to_markdown())

A run killed part-way (Ctrl-C, SIGTERM, a crash) is kept as ``runs/.NAME.partial`` marked
``aborted``; :func:`resume` (``arena play --resume runs/NAME``) plays only the episodes it
lacks. Per-episode seeds make the resumed run identical to an uninterrupted one.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from agents.base import Agent, accepts_seeds
from agents.registry import make_agent
from arena.judging import make_judge
from arena.match import EpisodeResult, play_episodes
from arena.runs import RunInterrupted, RunWriter, find_unfinished
from envs import canonical_name, load_game
from envs.errors import ArenaError
from envs.game_spec import GameSpec, Summary, config_hash, config_to_dict

_RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
MAX_EPISODES = 10_000_000


@dataclass
class PlayConfig:
    """One match spec; everything here is recorded in the run manifest.

    ``seats`` maps each seat of the game to one or more agent specs; ``env_config`` is
    the environment's config dataclass or plain (flat or nested) settings for it.
    """

    env: str = "attack_defense"
    seats: dict[str, list[str]] = field(default_factory=dict)
    episodes: int = 200
    seed: int = 0
    batch_size: int = 64
    judge: str = "rule"
    env_config: Any = field(default_factory=dict)
    episode_seeds: list[int] | None = None
    first_episode: int = 0

    def seeds_to_play(self) -> list[int]:
        """Episode ``i`` of the run plays seed ``seed + first_episode + i`` by default.

        ``first_episode`` splits one run into chunks that together equal the whole:
        ``episodes=32`` then ``episodes=32, first_episode=32`` play the episodes of
        ``episodes=64``, with the same run seed and therefore the same transcripts.
        """
        if self.episode_seeds is not None:
            return [int(s) for s in self.episode_seeds]
        start = self.seed + self.first_episode
        return [start + i for i in range(self.episodes)]


@dataclass
class PlayResult:
    run_dir: Path | None
    summary: Summary
    records: list[dict[str, Any]]
    warnings: list[str]


@dataclass
class PreparedPlay:
    """Everything built and checked; :func:`run` only plays and writes."""

    config: PlayConfig
    game: GameSpec
    env_config: Any
    judge: Any
    agents: dict[tuple[str, str], Agent]
    warnings: list[str]

    @property
    def matchups(self) -> list[dict[str, str]]:
        seats = self.game.seats
        return [
            dict(zip(seats, combo, strict=True))
            for combo in itertools.product(*(self.config.seats[s] for s in seats))
        ]

    def make_env(self) -> Any:
        return self.game.make_env(self.env_config, self.judge)

    def unique_agents(self) -> list[Agent]:
        return list({id(agent): agent for agent in self.agents.values()}.values())

    def close(self) -> None:
        for agent in self.unique_agents():  # one agent in two seats is closed once
            agent.close()
        close_judge = getattr(self.judge, "close", None)  # a model judge releases its model
        if close_judge is not None:
            close_judge()


def display_name(agent: Agent) -> str:
    """How a summary names an agent: its strategy label if it has one, else its spec."""
    label = getattr(agent, "strategy_label", None)
    return str(label) if label else agent.spec


def _check_settings(config: PlayConfig, game: GameSpec) -> None:
    for name, value, example in (
        ("--episodes", config.episodes, "200"),
        ("--batch-size", config.batch_size, "64"),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ArenaError(f"{name} must be at least 1, got {value}.", f"pass {name} {example}.")
    if config.episodes > MAX_EPISODES:
        raise ArenaError(
            f"--episodes {config.episodes} is more than {MAX_EPISODES:,}.",
            "split the work into several runs (episode seeds make them combinable).",
        )
    for name, value in (("--seed", config.seed), ("--first-episode", config.first_episode)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ArenaError(f"{name} must be an integer >= 0, got {value!r}.", f"pass {name} 0.")
    if config.episode_seeds is not None:
        seeds = config.episode_seeds
        if not seeds or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds):
            raise ArenaError(
                "episode_seeds must be a non-empty list of integers >= 0.",
                "pass e.g. episode_seeds=list(range(64)), or leave it None for seed+i.",
            )
        if len(set(seeds)) != len(seeds):
            raise ArenaError(
                "episode_seeds repeat a seed, so an episode would be played twice.",
                "pass distinct seeds.",
            )
    unknown = sorted(set(config.seats) - set(game.seats))
    if unknown:
        raise ArenaError(
            f"{game.name} has no seat(s) {', '.join(unknown)}.",
            f"its seats are: {', '.join(game.seats)}.",
        )
    for seat in game.seats:
        specs = config.seats.get(seat) or []
        if isinstance(specs, str):  # {"defender": "hf:tiny"}: one spec, not its letters
            specs = [specs]
        if not specs:
            raise ArenaError(
                f"No agent for the {seat} seat of {game.name}.",
                f"pass --{seat.replace('_', '-')} SPEC (repeat it to compare several); "
                "`arena agents` lists kinds.",
            )
        config.seats[seat] = list(dict.fromkeys(str(spec) for spec in specs))
    if not game.judged and config.judge != "rule":
        raise ArenaError(
            f"{game.name} has no judge, but --judge {config.judge!r} was given.",
            "drop --judge for this environment.",
        )


def prepare(config: PlayConfig) -> PreparedPlay:
    """Check every input and build data, judge and agents; raise one clear error if not."""
    config.env = canonical_name(config.env)
    game = load_game(config.env)
    _check_settings(config, game)
    env_config = game.config(config.env_config)
    # The environment's own checks (data files, seat spaces) on a cheap, unjudged
    # instance, before the (possibly slow) judge and agents load.
    probe = game.make_env(env_config, None)
    spaces = {seat: probe.action_space(seat) for seat in game.seats}
    observation_spaces = {seat: probe.observation_space(seat) for seat in game.seats}
    probe.close()
    warnings = list(game.warnings(env_config, config.judge)) if game.warnings else []
    judge = make_judge(config.judge) if game.judged else None
    normal_form = None
    if game.normal_form is not None:
        solve_form = game.normal_form

        def normal_form() -> Any:
            return solve_form(env_config)

    agents: dict[tuple[str, str], Agent] = {}
    built: dict[tuple[str, str, int | None], Agent] = {}
    try:
        for seat in game.seats:
            player = game.player_index(seat) if normal_form is not None else None
            for spec in config.seats[seat]:
                key = (spec, repr(spaces[seat]), player)
                if key not in built:
                    built[key] = make_agent(
                        spec,
                        role=seat,
                        seed=config.seed,
                        action_space=spaces[seat],
                        observation_space=observation_spaces[seat],
                        game=normal_form,
                        player=player,
                    )
                agents[(seat, spec)] = built[key]
    except BaseException:
        for agent in {id(a): a for a in built.values()}.values():
            agent.close()
        if judge is not None and hasattr(judge, "close"):
            judge.close()
        raise
    for agent in built.values():
        if agent.stochastic and not accepts_seeds(agent):
            warnings.append(
                f"agent {agent.spec!r} takes no per-episode seeds (act_batch(observations, "
                "seeds)); its draws depend on batching and order, so this run is not "
                "reproducible episode by episode."
            )
    return PreparedPlay(config, game, env_config, judge, agents, warnings)


def _manifest(prepared: PreparedPlay) -> dict[str, Any]:
    config = prepared.config
    game = prepared.game
    manifest: dict[str, Any] = {
        "kind": "play",
        "env": game.name,
        "config": {
            **asdict(config),
            "env_config": config_to_dict(prepared.env_config),
        },
        "env_config_sha256": config_hash(prepared.env_config),
        "agents": {
            seat: [prepared.agents[(seat, spec)].describe() for spec in config.seats[seat]]
            for seat in game.seats
        },
        "episode_seeds": (
            f"seed + first_episode + i for i < {config.episodes}"
            if config.episode_seeds is None
            else config.episode_seeds
        ),
        "randomness": "per episode: draw_seed(run seed, episode seed, seat, move)",
        "warnings": prepared.warnings,
    }
    if prepared.judge is not None:
        manifest["judge"] = prepared.judge.describe()
    if game.describe is not None:
        manifest.update(game.describe(prepared.env_config))
    return manifest


def run(
    prepared: PreparedPlay,
    *,
    runs_dir: str | Path | None = Path("runs"),
    run_name: str | None = None,
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
    writer: RunWriter | None = None,
    done: Iterable[dict[str, Any]] = (),
) -> PlayResult:
    """Play the prepared match; write ``runs_dir/run_name`` unless ``runs_dir`` is None.

    ``writer`` and ``done`` are how :func:`resume` continues a run: the records already
    written are skipped (by matchup and episode seed) and kept in the summary.
    """
    if writer is None and runs_dir is not None:
        runs_dir = Path(runs_dir)
        name = run_name or "play-" + _dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        if not _RUN_NAME.match(name):
            prepared.close()
            raise ArenaError(
                f"Run name {name!r} is not a plain folder name.",
                "use letters, digits, '.', '_' and '-' (no '/' or '..').",
            )
        try:
            writer = RunWriter(runs_dir / name, _manifest(prepared), overwrite=overwrite)
        except BaseException:
            prepared.close()
            raise
    records = list(done)
    finished = {(int(r["matchup"]), int(r["episode_seed"])) for r in records}
    try:
        for number, matchup in enumerate(prepared.matchups):
            for record in _play_matchup(prepared, number, matchup, finished):
                records.append(record)
                if writer is not None:
                    writer.write_episode(record)
                if progress is not None:
                    progress(1)
    except BaseException as exc:
        if writer is not None:
            writer.abort(_reason(exc))
            if isinstance(exc, RunInterrupted) and writer.staging.exists():
                exc.run_folder, exc.episodes = writer.destination, writer.count
        raise
    finally:
        prepared.close()
    records.sort(key=lambda r: (int(r["matchup"]), int(r["episode"])))
    summary = prepared.game.summarize(records, prepared.env_config)
    run_dir = None
    if writer is not None:
        data = {"env": prepared.game.name, "table": asdict(summary.table), **summary.data}
        writer.write_json("summary.json", data)
        run_dir = writer.finish({"env": prepared.game.name, "episodes": len(records)})
    return PlayResult(run_dir, summary, records, prepared.warnings)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def play(config: PlayConfig, **kwargs: Any) -> PlayResult:
    """:func:`prepare` then :func:`run`: the library front door (same as ``arena play``)."""
    return run(prepare(config), **kwargs)


def total_episodes(prepared: PreparedPlay, done: int = 0) -> int:
    return len(prepared.matchups) * len(prepared.config.seeds_to_play()) - done


def _play_matchup(
    prepared: PreparedPlay,
    number: int,
    matchup: Mapping[str, str],
    finished: set[tuple[int, int]],
) -> Iterable[dict[str, Any]]:
    config = prepared.config
    seats = {seat: prepared.agents[(seat, spec)] for seat, spec in matchup.items()}
    all_seeds = config.seeds_to_play()
    position = {seed: i for i, seed in enumerate(all_seeds)}
    todo = [seed for seed in all_seeds if (number, seed) not in finished]
    for agent in {id(a): a for a in seats.values()}.values():
        agent.reset(config.seed)
    names = {seat: display_name(agent) for seat, agent in seats.items()}
    for result in play_episodes(
        prepared.make_env,
        seats,
        todo,
        run_seed=config.seed,
        batch_size=config.batch_size,
        parallel=prepared.game.parallel,
    ):
        yield _record(number, position[result.seed], matchup, names, seats, result)


def _record(
    number: int,
    episode: int,
    matchup: Mapping[str, str],
    names: Mapping[str, str],
    seats: Mapping[str, Agent],
    result: EpisodeResult,
) -> dict[str, Any]:
    labels = {}
    for seat, agent in seats.items():
        first = result.first_actions.get(seat)
        label = agent.label_action(first) if first is not None else None
        labels[seat] = label or names[seat]
    return {
        "matchup": number,
        "episode": episode,
        "episode_seed": result.seed,
        "agents": dict(matchup),
        "names": dict(names),
        "labels": labels,
        "rewards": result.rewards,
        **result.record,
    }


def prepare_resume(run: Path) -> tuple[PreparedPlay, RunWriter, list[dict[str, Any]]]:
    """Reopen an aborted (or killed) run folder: its match spec, writer and finished records.

    The match spec comes from the run's manifest, so a resumed run cannot drift from the
    one it continues; the environment config's hash is checked to be sure.
    """
    staging, manifest, done = find_unfinished(run)
    stored = manifest.get("config")
    if not isinstance(stored, dict):
        raise ArenaError(
            f"{str(staging)!r} has no match spec in its manifest, so it cannot be resumed.",
            "start a new run with `arena play`.",
        )
    fields = PlayConfig.__dataclass_fields__
    config = PlayConfig(**{k: v for k, v in stored.items() if k in fields})
    prepared = prepare(config)
    try:
        if config_hash(prepared.env_config) != manifest.get("env_config_sha256"):
            raise ArenaError(
                f"The settings of {str(staging)!r} no longer build the same environment "
                "config (its hash changed, e.g. after an upgrade).",
                "start a new run; results from different settings must not be mixed.",
            )
        writer = RunWriter.reopen(staging, manifest)
    except BaseException:
        prepared.close()
        raise
    return prepared, writer, done


def resume(run_folder: Path, progress: Callable[[int], None] | None = None) -> PlayResult:
    """Continue an aborted run: play only the episodes it lacks (see :func:`prepare_resume`)."""
    prepared, writer, done = prepare_resume(run_folder)
    return run(prepared, writer=writer, done=done, progress=progress)
