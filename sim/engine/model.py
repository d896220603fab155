"""The negotiation as a Mesa model that plays a block of independent runs in lockstep.

Everything that differs between runs (sampled parameters, positions, flags, pressure, what has
been declared and agreed) is an array over the block; the decision rules in
:mod:`sim.engine.rules` broadcast over it. A block of one run is an ordinary single negotiation.

One :meth:`NegotiationModel.step` is one round (a week by default):

1. the world: events (scheduled, hazards, incidents, summits convened by third parties) and the
   risk of collapse, which grows while talks stall and falls with agreements;
2. third parties act on the last round's answers: they press principals who said no (at a cost,
   with a credibility that erodes when pressure is not followed through) and offer guarantees;
3. proposals: the gate of the next phase (its settled issues, its consenting principals, its
   preconditions) and, inside declared phases, the issues still open; each proposal is tabled
   under the protocol's rule and answered by the principals and their domestic veto players;
4. declarations, issue agreements and implementation milestones;
5. pressure fades, preconditions are waived and red lines relaxed (at an audience cost) under
   pressure, and principals concede on their own clocks, which start when talks open.

Nothing depends on the horizon but when observation stops.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from sim.engine import rules, streams
from sim.engine.agents import ROLE_CLASSES, Principal
from sim.engine.columns import (
    COLLAPSE,
    COLLAPSED,
    DECLARED,
    INCOMPATIBLE,
    NO_TALKS,
    RATIFICATION,
    STALEMATE,
    TRAJECTORY_COLUMNS,
)
from sim.engine.numbers import Numbers
from sim.engine.resume import resume
from sim.engine.world import WorldState
from sim.scenario.schema import TIME_STRATEGIES, Scenario

NOISE_STREAM = streams.key("decision-noise")
BREAKDOWN_STREAM = streams.key("breakdown")
MILESTONE_STREAM = streams.key("milestones")
# How a principal's answer ranks when several say no: a precondition first, then a red line, an offer
# below what it holds out for, a domestic veto; ties go to the larger shortfall. Indexed by reason code.
RANK = np.array([4, 0, 1, 2, 4, 4, 3, 4])


class _NoDraws:
    """Stands in for Mesa's ``model.rng`` and ``model.random``, which negsim never draws from."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr):
        if attr.startswith("__"):  # copy, pickle and numpy probe for these: say there are none
            raise AttributeError(attr)
        raise RuntimeError(
            f"model.{self._name}.{attr}: negsim draws every random number from sim.engine.streams "
            "(a function of the seed, the run and named keys), so that a run's numbers do not depend on "
            "the block, chunk or worker that plays it; draw with streams.uniform(model.seed, model.run_ids, ...)"
        )


@dataclass
class Proposal:
    """One proposal of a round, over a block: which runs negotiate it, on which issues, between whom."""

    gate: bool  # a phase's gate (else the issues still open inside declared phases)
    rows: np.ndarray  # (m,) the runs where it is on the table this round; the arrays below are theirs
    on_table: np.ndarray  # (m, I) issues it settles
    parties: np.ndarray  # (m, A) principals whose consent it needs
    phase: np.ndarray  # (m,) the phase a gate declares
    low: np.ndarray  # (m, I) the packages the parties' red lines allow
    high: np.ndarray
    salience: np.ndarray  # (m, A, I) saliences over the issues on the table
    bonus: np.ndarray  # (m, A) what guarantees add to each principal's value
    contested: np.ndarray  # (n, I) issues whose red lines cannot meet (waiting for a relaxation), in all runs
    package: np.ndarray | None = None  # (m, I) what is tabled


class NegotiationModel(mesa.Model):
    """A negotiation under the scenario ``spec`` for the runs ``run_ids`` (indices in the batch).

    ``spec`` is negsim's scenario (the validated YAML file); Mesa's own ``scenario`` attribute
    (its experiment-parameter object) is not used. ``overrides`` replaces the draws of uncertain
    parameters (by path, one value per run), e.g. for a sensitivity design. ``trajectories``
    records per-round state for the runs with index below it, in Mesa's ``datacollector``: its table
    ``trajectories`` (long format, see :func:`sim.engine.tables.trajectory_table`) and, per round,
    the recorded runs' thresholds and values of the gate package.

    Numbers are read one way: through ``numbers`` (a :class:`~sim.engine.numbers.Numbers`), a float
    where the scenario fixes them and an array over the block where it draws them. Block arrays
    below hold what changes during a run, and what the rules take per actor or issue.

    Mesa's own state drives the loop: ``steps`` is the round just played, ``running`` turns false
    at the horizon or once every run has collapsed, and ``agents`` / ``agents_by_type`` hold the
    actors (one agent per actor, in scenario order).

    Block arrays (``n`` runs, ``A`` actors, ``I`` issues, ``H`` phases, ``R`` red lines, ``P``
    preconditions, ``V`` veto players, ``L`` levers, ``G`` guarantees, ``K`` milestones; utilities
    in [0, 1], issue values on 0-100; rounds are -1 where something has not happened):

    ==============================  ===========  ================================================
    ``ideal``                       (n, A, I)    each actor's ideal position (moved by events)
    ``salience``                    (n, A, I)    issue weights, summing to 1 per seated actor
    ``capability``, ``reservation`` (n, A)       clout in a compromise; utility of no deal
    ``exponent``, ``deadline``      (n, A)       time-based concession: shape and rounds of talks
    ``reciprocity``                 (n, A)       responsive concession: share of the other's move
    ``patience``, ``step_size``     (n, A)       discount factor; Zeuthen's concession step
    ``bias``                        (n, A)       each actor's per-run bias in valuing packages
    ``clock``, ``share``            (n, A)       rounds conceding; share of the way to reservation
    ``pressure``                    (n, A)       leverage accumulated on each actor
    ``budget``                      (n, A)       political capital left
    ``audience_cost``               (n, A)       audience costs paid for relaxing red lines
    ``threshold``, ``value``        (n, A)       held out for / value of this round's gate proposal
    ``tabled``                      (n, I)       the latest package tabled on each issue
    ``talks_open``                  (n,)         whether talks have opened
    ``declared_round``              (n, H)       round each phase was declared
    ``agreed_round``                (n, I)       round each issue was agreed
    ``agreed_value``                (n, I)       value it was agreed at (NaN before)
    ``milestone_round``             (n, K)       round each milestone was carried out
    ``collapse_round``              (n,)         round the ceasefire collapsed
    ``progress_round``              (n,)         round of the last declaration/agreement/milestone
    ``red_line_min``, ``_max``      (n, R)       red lines' bounds (-inf / +inf if open)
    ``relaxed_round``               (n, R)       round each red line was relaxed
    ``precondition_met``/``waived`` (n, P)       round each was met / waived
    ``veto_min``, ``veto_max``      (n, V, I)    domestic veto players' bounds
    ``credibility``                 (n, L)       share of each lever's strength that bites
    ``guarantee_round``             (n, G)       round each guarantee was offered
    ``blocker``, ``reason``, ``_ref`` (n,)       what last stopped the first phase's declaration
    ``open_blocker``, ``open_reason`` (n,)       what last stopped agreement on open issues
    ``world``                       WorldState   flags (n, flags) and event history
    ==============================  ===========  ================================================

    Blockers index actors, then veto players (``A + v``); -1 is nobody. Two-principal protocols
    also use ``principal_index`` (the two principals' actor columns), ``first_proposer`` (0 or
    1), ``zeuthen_aspiration`` (n, 2) and ``subgame_perfect`` ((horizon, n, 2) offers); each is
    None where the protocol has no use for it.
    """

    def __init__(
        self,
        spec: Scenario,
        run_ids,
        seed: int | None = None,
        trajectories: int = 0,
        overrides: dict[str, np.ndarray] | None = None,
    ):
        seed = spec.meta.seed_or(seed)
        super().__init__(rng=seed)
        self.spec, self.seed = spec, seed
        self.run_ids = np.atleast_1d(np.asarray(run_ids, dtype=np.int64))
        self.block_size = n = len(self.run_ids)
        self.horizon = spec.meta.horizon
        self.numbers = Numbers(spec, seed, self.run_ids, overrides)
        self.actor_index = {a.id: i for i, a in enumerate(spec.actors)}
        self.issue_index = {issue: i for i, issue in enumerate(spec.issue_ids())}
        for i, a in enumerate(spec.actors):
            ROLE_CLASSES[a.role](self, a, i)
        self.principal_index = np.array([p.index for p in self.principals])
        self.roles = np.array([a.role for a in spec.actors])
        tablers = [self.actor_index[a] for a in spec.protocol.tabled_by]
        self.judges = np.array(sorted({*self.principal_index, *tablers}))  # who weighs the issues on the table
        self.positions = None  # stated positions at the start of the round, for a compromise
        self.phases = spec.ordered_phases()
        self._setup_actors(n)
        self._setup_red_lines(n)
        self._setup_preconditions(n)
        self._setup_phases(n)
        self._setup_third_parties(n)
        self.world = WorldState(spec, self.numbers, self.run_ids, self.actor_index)
        seated = [self.actor_index[a.id] for a in spec.seated]
        self.at_table = np.array([self.actor_index[a] for a in spec.protocol.at_table] or seated)
        self.talks_open = np.zeros(n, dtype=bool)
        self.collapse_round = np.full(n, -1, dtype=np.int32)
        self.collapse_ref = np.full(n, -1, dtype=np.int32)
        self.progress_round = np.full(n, -1, dtype=np.int32)
        self.blocker, self.reason, self.reason_ref = self._no_reason(n)
        self.open_blocker, self.open_reason, self.open_ref = self._no_reason(n)
        self._answers = self._no_answers(n)
        self.threshold = np.zeros((n, len(spec.actors)))
        self.value = np.full((n, len(spec.actors)), np.nan)
        low, high = self.box(np.ones((n, len(spec.actors)), dtype=bool))
        k = self.at_table
        self.tabled = rules.project(
            rules.weighted_compromise(self.ideal[:, k], self.capability[:, k], self.salience[:, k]), low, high
        )
        self.first_proposer = self.zeuthen_aspiration = self.subgame_perfect = None
        self._setup_offers(low, high)
        if spec.as_of is not None:
            resume(self, spec.as_of)
        self.trajectory_mask = self.run_ids < trajectories
        self.datacollector = mesa.DataCollector(  # the recorded runs' rounds
            model_reporters={
                "round": "steps",
                "threshold": lambda m: m.threshold[m.trajectory_mask],
                "value": lambda m: m.value[m.trajectory_mask],
            },
            tables={"trajectories": TRAJECTORY_COLUMNS},
        )
        self.rng, self.random = _NoDraws("rng"), _NoDraws("random")

    # ----------------------------------------------------------------- set-up
    def _per_actor(self, field, n, default=0.0):
        return np.stack([np.broadcast_to(self.numbers(field(a), default), n) for a in self.spec.actors], axis=1).astype(
            float
        )

    def _per_issue(self, field, n):
        issues = self.spec.issue_ids()
        return np.stack(
            [
                np.stack([np.broadcast_to(self.numbers(field(a).get(i), 0.0), n) for i in issues], axis=-1)
                for a in self.spec.actors
            ],
            axis=1,
        ).astype(float)

    def _setup_actors(self, n):
        spec = self.spec
        self.ideal = self._per_issue(lambda a: a.position, n)
        sal = self._per_issue(lambda a: a.salience, n)
        self.salience = sal / np.maximum(sal.sum(axis=-1, keepdims=True), rules.EPS)
        self.capability = self._per_actor(lambda a: a.capability, n)
        self.reservation = self._per_actor(lambda a: a.reservation, n)
        concession = lambda field, default: lambda a: getattr(a.concession, field) if a.concession else default
        self.exponent = self._per_actor(lambda a: a.concession.shape() if a.concession else 0.0, n)
        self.deadline = self._per_actor(concession("deadline", None), n, np.inf)
        self.reciprocity = self._per_actor(concession("reciprocity", 0.0), n)
        self.patience = self._per_actor(concession("patience", 0.95), n)
        self.step_size = self._per_actor(concession("step", 0.02), n)
        self.strategy = [a.strategy for a in spec.actors]
        noise = self._per_actor(lambda a: a.noise, n)
        self.bias = np.stack(
            [
                noise[:, k] * streams.normal(self.seed, self.run_ids, NOISE_STREAM, streams.key(a.id))
                for k, a in enumerate(spec.actors)
            ],
            axis=1,
        )
        self.budget = self._per_actor(lambda a: a.budget, n)
        shape = (n, len(spec.actors))
        self.pressure, self.clock, self.share = np.zeros(shape), np.zeros(shape), np.zeros(shape)
        self.moved = np.zeros(shape)  # share conceded in the last round
        self.audience_cost = np.zeros(shape)

    def _setup_red_lines(self, n):
        lines = self.spec.red_lines
        self.red_line_issue = np.array([self.issue_index[r.issue] for r in lines], dtype=int)
        self.red_line_owner = np.array([self.actor_index[r.actor] for r in lines], dtype=int)
        bound = lambda v, d: np.broadcast_to(self.numbers(v, d), n)
        stack = lambda bounds: np.stack(bounds, axis=1).astype(float) if lines else np.zeros((n, 0))
        self.red_line_min = stack([bound(r.min, -np.inf) for r in lines])
        self.red_line_max = stack([bound(r.max, np.inf) for r in lines])
        self.relaxed_round = np.full((n, len(lines)), -1, dtype=np.int32)
        players = self.spec.veto_players
        shape = (n, len(players), len(self.issue_index))
        self.veto_owner = np.array([self.actor_index[v.principal] for v in players], dtype=int)
        self.veto_min, self.veto_max = np.full(shape, -np.inf), np.full(shape, np.inf)
        for v, player in enumerate(players):
            for issue, b in player.bounds.items():
                self.veto_min[:, v, self.issue_index[issue]] = self.numbers(b.min, -np.inf)
                self.veto_max[:, v, self.issue_index[issue]] = self.numbers(b.max, np.inf)

    def _setup_preconditions(self, n):
        pcs = self.spec.preconditions
        self.precondition_met = np.full((n, len(pcs)), -1, dtype=np.int32)
        self.precondition_waived = np.full((n, len(pcs)), -1, dtype=np.int32)
        self.precondition_owner = np.array([self.actor_index[p.actor] for p in pcs], dtype=int)

    def _setup_phases(self, n):
        spec, actors, issues, phases = self.spec, len(self.spec.actors), len(self.issue_index), len(self.phases)
        self.phase_consent = np.zeros((phases, actors), dtype=bool)
        self.phase_settle = np.zeros((phases, issues), dtype=bool)
        self.phase_defer = np.zeros((phases, issues), dtype=bool)
        self.phase_preconditions = np.zeros((phases, len(spec.preconditions)), dtype=bool)
        ids = [p.id for p in spec.preconditions]
        for h, phase in enumerate(self.phases):
            g = phase.gate
            self.phase_consent[h, [self.actor_index[a] for a in g.consent]] = True
            self.phase_settle[h, [self.issue_index[i] for i in spec.settled(phase)]] = True
            self.phase_defer[h, [self.issue_index[i] for i in g.defer]] = True
            chosen = ids if g.preconditions is None else g.preconditions
            self.phase_preconditions[h, [ids.index(p) for p in chosen]] = True
        self.declared_round = np.full((n, phases), -1, dtype=np.int32)
        self.agreed_round = np.full((n, issues), -1, dtype=np.int32)
        self.agreed_value = np.full((n, issues), np.nan)
        milestones = spec.milestones
        self.milestone_issues = np.zeros((len(milestones), issues), dtype=bool)
        for k, m in enumerate(milestones):
            self.milestone_issues[k, [self.issue_index[i] for i in m.issues]] = True
        phase_ids = [p.id for p in self.phases]
        self.milestone_phase = np.array([phase_ids.index(m.phase) if m.phase else -1 for m in milestones], dtype=int)
        self.milestone_round = np.full((n, len(milestones)), -1, dtype=np.int32)
        self._milestone_keys = [streams.key(m.id) for m in milestones]

    def _setup_third_parties(self, n):
        spec = self.spec
        self.credibility = (
            np.stack([np.broadcast_to(self.numbers(lev.credibility), n) for lev in spec.leverage], axis=1)
            if spec.leverage
            else np.zeros((n, 0))
        )
        src = lambda lev: self.actor_index[lev.source]
        tgt = lambda lev: self.actor_index[lev.target]
        self.lever_distance = (
            np.stack(  # how far apart source and target started (for scaled pressure)
                [self.distance(src(lev), self.ideal[:, tgt(lev)]) for lev in spec.leverage], axis=1
            )
            if spec.leverage
            else np.zeros((n, 0))
        )
        vetoed = {(v.of, v.issue) for v in spec.vetoes}
        self.guarantee_void = np.array([any((g.source, i) in vetoed for i in g.issues) for g in spec.guarantees])
        self.guarantee_issues = np.zeros((len(spec.guarantees), len(self.issue_index)), dtype=bool)
        for g, guarantee in enumerate(spec.guarantees):
            self.guarantee_issues[g, [self.issue_index[i] for i in guarantee.issues]] = True
        self.guarantee_round = np.full((n, len(spec.guarantees)), -1, dtype=np.int32)
        self.vetoed = np.zeros((len(spec.actors), len(self.issue_index)), dtype=bool)
        for v in spec.vetoes:
            self.vetoed[self.actor_index[v.of], self.issue_index[v.issue]] = True

    def _setup_offers(self, low, high):
        """Two-party offers over one comprehensive package: Zeuthen aspirations at each principal's best,
        who proposes first, and the subgame-perfect offers of every round (solved once, up front)."""
        if not self.spec.two_party:
            return
        first = self.spec.protocol.first_proposer
        self.first_proposer = 0 if first is None else [p.actor.id for p in self.principals].index(first)
        if not {"zeuthen", "subgame_perfect"} & set(self.strategy):
            return
        frontier = self._frontier(self.salience, low, high)
        top = frontier[1]
        self.zeuthen_aspiration = np.stack([top[:, 0, 0], top[:, -1, 1]], axis=-1)
        if "subgame_perfect" in self.strategy:
            p = self.principal_index
            self.subgame_perfect = rules.subgame_perfect_values(
                *frontier, self.patience[:, p], self.reservation[:, p], self.horizon, self.first_proposer
            )

    @staticmethod
    def _no_reason(n):
        return np.full(n, -1, dtype=np.int32), np.zeros(n, dtype=np.int8), np.full(n, -1, dtype=np.int32)

    def _no_answers(self, n):
        """The last round's answers, which third parties act on: who said no, why, and by how much."""
        A = len(self.spec.actors)
        return {
            "blocked": np.zeros((n, A), dtype=bool),
            "reason": np.zeros((n, A), dtype=np.int8),
            "shortfall": np.zeros((n, A)),
            "issues": np.zeros((n, A, len(self.issue_index)), dtype=bool),
        }

    # ----------------------------------------------------------------- state
    @property
    def principals(self) -> list[Principal]:
        """The principals, in scenario order."""
        return list(self.agents_by_type[Principal])

    @property
    def answers(self) -> dict[str, np.ndarray]:
        """This round's first refusal by each principal (runs x actors): ``blocked``, its ``reason`` code,
        its ``shortfall`` below the threshold and the ``issues`` on the table it refused."""
        return self._answers

    @property
    def live(self) -> np.ndarray:
        """Runs whose ceasefire has not collapsed."""
        return self.collapse_round < 0

    @property
    def outcome(self) -> np.ndarray:
        """DECLARED if the first phase was declared, COLLAPSED if the ceasefire broke down before, else STALEMATE."""
        first = self.declared_round[:, 0]
        collapsed_first = (self.collapse_round >= 0) & ((first < 0) | (self.collapse_round < first))
        return np.where(first >= 0, DECLARED, np.where(collapsed_first, COLLAPSED, STALEMATE)).astype(np.int8)

    @property
    def end_round(self) -> np.ndarray:
        """The round of each run's outcome: its declaration, its collapse, or the horizon."""
        first = self.declared_round[:, 0]
        return np.where(first >= 0, first, np.where(self.collapse_round >= 0, self.collapse_round, self.steps))

    def aspirations(self) -> np.ndarray:
        """Utility each actor holds out for this round (runs x actors), before pressure."""
        asp = rules.aspiration(self.share, self.reservation)
        for k, p in enumerate(self.principals):
            if self.strategy[p.index] == "zeuthen":
                asp[:, p.index] = self.zeuthen_aspiration[:, k]
            elif self.strategy[p.index] == "subgame_perfect":
                asp[:, p.index] = self.subgame_perfect[min(self.steps, self.horizon) - 1][:, k]
        return asp

    def stated_positions(self, actors=slice(None)) -> np.ndarray:
        """What ``actors`` (default: all) say they want now (runs x actors x issues): a principal's ideal moved
        by its concessions toward the table; a third party's ideal as it stands."""
        asp, reservation = self.aspirations()[:, actors], self.reservation[:, actors]
        share = 1.0 - (asp - reservation) / np.maximum(1.0 - reservation, rules.EPS)
        share = np.where(self.roles[actors] == "principal", share, 0.0)
        return rules.stated_position(self.ideal[:, actors], self.tabled[:, None, :], np.clip(share, 0, 1))

    def box(self, parties: np.ndarray):
        """The packages (n, I) low..high that the red lines of ``parties`` (n, A) allow."""
        shape = (parties.shape[0], len(self.issue_index))
        low, high = np.zeros(shape), np.full(shape, 100.0)
        for j, (i, owner) in enumerate(zip(self.red_line_issue, self.red_line_owner, strict=True)):
            binds = parties[:, owner]
            low[:, i] = np.where(binds, np.maximum(low[:, i], self.red_line_min[:, j]), low[:, i])
            high[:, i] = np.where(binds, np.minimum(high[:, i], self.red_line_max[:, j]), high[:, i])
        return low, high

    def distance(self, source: int, position: np.ndarray) -> np.ndarray:
        """How far ``position`` (n, I) is from the ``source`` actor's ideal, weighted by its saliences."""
        return np.sum(self.salience[:, source] * np.abs(position - self.ideal[:, source]), axis=-1) / 100.0

    def _frontier(self, salience, low, high):
        i, j = self.principal_index
        return rules.frontier(self.ideal[:, i], self.ideal[:, j], salience[:, i], salience[:, j], low, high)

    # ----------------------------------------------------------------- one round
    def step(self) -> None:
        t = self.steps  # Mesa counts the round before calling step
        self._world(t)
        self._preconditions_met(t)
        self._open_talks(t)
        if self.spec.protocol.rule == "compromise":
            self.positions = self.stated_positions()
        answers = self._answers
        for actor in self.agents:
            actor.act(t, answers)
        self.threshold = np.maximum(self.aspirations() - self.pressure, 0.0)
        self._answers = self._no_answers(self.block_size)
        self.value = np.full_like(self.value, np.nan)
        contested = np.zeros((self.block_size, len(self.issue_index)), dtype=bool)
        for proposal in (self._gate_proposal(), self._open_proposal(t)):
            contested |= proposal.contested
            if proposal.rows.size:
                self._negotiate(t, proposal)
        self._milestones(t)
        self.pressure *= 1.0 - np.where(self.live, self.numbers(self.spec.protocol.pressure_decay), 0.0)[:, None]
        for principal in self.principals:
            principal.waive(t)
        for principal in self.principals:
            principal.relax(t, contested)
        self._concede()
        if self.trajectory_mask.any():
            self.datacollector.collect(self)
            self.datacollector.add_table_row("trajectories", self._trajectory_rows())
        if t >= self.horizon:
            self._close()
        self.running = t < self.horizon and bool(self.live.any())

    def _world(self, t):
        live = self.live
        risk = self._risk_multiplier(t)
        since = np.where(self.progress_round >= 0, t - 1 - self.progress_round, -1)
        self.world.flags[:, self.world.flag("stalled")] = self._stalled(t) & live
        for happened in self.world.happen(self.seed, t, live, risk, self.budget, since):
            self.apply(happened.event.effects, happened.fired)
            self._collapse(happened.collapsed, t, happened.index)
        hazard = self.numbers(self.spec.risk.hazard)
        if np.any(hazard):
            u = streams.uniform(self.seed, self.run_ids, BREAKDOWN_STREAM, t)
            self._collapse(self.live & (u < np.minimum(hazard * risk, 1.0)), t, len(self.spec.events))

    def _stalled(self, t) -> np.ndarray:
        return t - 1 - np.maximum(self.progress_round, 0) >= self.spec.risk.stall_after

    def _risk_multiplier(self, t) -> np.ndarray:
        """How much likelier than its base rate a collapse is this round: stalling raises it, agreements lower it."""
        r, v = self.spec.risk, self.numbers
        stalled = np.maximum(t - 1 - np.maximum(self.progress_round, 0) - r.stall_after, 0)
        growth = np.minimum(1.0 + v(r.stall_growth) * stalled, v(r.stall_cap))
        agreed = np.sum(self.agreed_round >= 0, axis=-1)
        declared = np.any(self.declared_round >= 0, axis=-1)
        return growth * v(r.agreement_factor) ** agreed * np.where(declared, v(r.declared_factor), 1.0)

    def _collapse(self, mask, t, ref):
        mask = mask & self.live
        if not mask.any():
            return
        self.collapse_round = np.where(mask, t, self.collapse_round).astype(np.int32)
        self.collapse_ref = np.where(mask, ref, self.collapse_ref).astype(np.int32)
        self.world.set_flag("collapsed", mask)
        undeclared = mask & (self.declared_round[:, 0] < 0)
        self.blocker = np.where(undeclared, -1, self.blocker)
        self.reason = np.where(undeclared, COLLAPSE, self.reason)
        self.reason_ref = np.where(undeclared, ref, self.reason_ref)

    def _open_talks(self, t):
        opening = self.live & ~self.talks_open & self.world.active(self.spec.protocol.opens_when, t)
        self.talks_open |= opening
        self.world.set_flag("talks_open", opening)

    # ----------------------------------------------------------------- proposals
    def _next_phase(self) -> np.ndarray:
        """The index of the next phase to declare in each run (``H`` once all are declared)."""
        return np.sum(self.declared_round >= 0, axis=-1)

    def _gate_proposal(self) -> Proposal:
        H = len(self.phases)
        h = self._next_phase()
        pending = h < H
        hh = np.minimum(h, H - 1)
        on_table = self.phase_settle[hh] & (self.agreed_round < 0)
        active = self.live & self.talks_open & pending
        return self._proposal(True, active, on_table, self.phase_consent[hh], hh)

    def _open_proposal(self, t) -> Proposal:
        """The issues deferred into phases declared before this round and not agreed yet."""
        before = (self.declared_round >= 0) & (self.declared_round < t)  # (n, H)
        open_ = (before[:, :, None] & self.phase_defer[None]).any(axis=1) & (self.agreed_round < 0)
        parties = (before[:, :, None] & self.phase_consent[None]).any(axis=1)
        active = self.live & open_.any(axis=-1)
        return self._proposal(False, active, open_, parties, np.zeros(self.block_size, dtype=int))

    def _proposal(self, gate, active, on_table, parties, phase) -> Proposal:
        """A proposal on ``on_table`` between ``parties``, for the runs where it is ``active``. A gate with an
        issue whose red lines cannot meet fails; inside a phase such an issue waits off the table (for a red
        line to be relaxed)."""
        low, high = self.box(parties)
        contested = on_table & (low > high) & active[:, None]
        if not gate:
            on_table = on_table & ~contested
            stuck = contested.any(axis=-1) & ~on_table.any(axis=-1)
            self.open_blocker = np.where(stuck, -1, self.open_blocker)
            self.open_reason = np.where(stuck, INCOMPATIBLE, self.open_reason)
            self.open_ref = np.where(stuck, np.argmax(contested, axis=-1), self.open_ref)
            active = active & on_table.any(axis=-1)
        rows = np.flatnonzero(active)
        on_table = on_table[rows]
        salience = np.zeros((len(rows), *self.salience.shape[1:]))
        salience[:, self.judges] = rules.restricted(self.salience[np.ix_(rows, self.judges)], on_table[:, None, :])
        return Proposal(
            gate,
            rows,
            on_table,
            parties[rows],
            phase[rows],
            low[rows],
            high[rows],
            salience,
            self._bonus(rows, salience),
            contested,
        )

    def _bonus(self, rows, salience) -> np.ndarray:
        """What the guarantees offered so far add to each principal's value of a proposal."""
        bonus = np.zeros(salience.shape[:2])
        for g, guarantee in enumerate(self.spec.guarantees):
            offered = self.guarantee_round[rows, g] >= 0
            if self.guarantee_void[g] or not offered.any():
                continue
            target = self.actor_index[guarantee.target]
            share = np.sum(salience[:, target] * self.guarantee_issues[g], axis=-1)
            value = np.broadcast_to(self.numbers(guarantee.value), self.block_size)[rows]
            bonus[:, target] += np.where(offered, value * share, 0.0)
        return bonus

    def _negotiate(self, t, proposal: Proposal) -> None:
        """Table ``proposal``, collect the principals' answers and record what is declared and agreed."""
        rows = proposal.rows
        proposal.package = self.table_package(t, proposal)
        values = self._values_of(proposal)
        if proposal.gate:
            self.value[rows] = np.where(proposal.parties, values, np.nan)
        self.tabled[rows] = np.where(proposal.on_table, proposal.package, self.tabled[rows])
        incompatible = proposal.on_table & (proposal.low > proposal.high)
        accept = ~incompatible.any(axis=-1)
        worst = np.full(len(rows), -np.inf)
        rank = np.full(len(rows), RANK.max())
        blocker, reason, ref = self._no_reason(len(rows))
        threshold, reservation = self.threshold[rows], self.reservation[rows]
        for p in self.principals:
            a = p.index
            yes, why, what = p.respond(proposal, values[:, a], t)
            no = proposal.parties[:, a] & ~yes
            accept &= yes | ~proposal.parties[:, a]
            short = (threshold[:, a] - values[:, a]) / np.maximum(1.0 - reservation[:, a], rules.EPS)
            r = RANK[why]
            take = no & ((r < rank) | ((r == rank) & (short > worst)))
            rank, worst = np.where(take, r, rank), np.where(take, short, worst)
            who = np.where(why == RATIFICATION, len(self.spec.actors) + what, a)
            blocker, reason, ref = np.where(take, who, blocker), np.where(take, why, reason), np.where(take, what, ref)
            self._remember(rows, a, no, why, threshold[:, a] - values[:, a], proposal.on_table)
        stuck = incompatible.any(axis=-1)
        blocker = np.where(stuck, -1, blocker)
        reason = np.where(stuck, INCOMPATIBLE, reason)
        ref = np.where(stuck, np.argmax(incompatible, axis=-1), ref)
        self._record(t, proposal, accept, blocker, reason, ref)

    def _values_of(self, proposal) -> np.ndarray:
        """Each principal's value of the tabled package (NaN for other actors): utility over the issues on
        the table, plus its guarantees and its per-run bias."""
        p, rows = self.principal_index, proposal.rows
        values = np.full((len(rows), len(self.spec.actors)), np.nan)
        u = rules.utility(proposal.package[:, None, :], self.ideal[rows][:, p], proposal.salience[:, p])
        values[:, p] = u + proposal.bonus[:, p] + self.bias[rows][:, p]
        return values

    def _remember(self, rows, actor, no, why, shortfall, on_table):
        """Keep the first refusal of a round (the gate's before the open issues') for the third parties."""
        a = self._answers
        first = no & ~a["blocked"][rows, actor]
        a["reason"][rows, actor] = np.where(first, why, a["reason"][rows, actor])
        a["shortfall"][rows, actor] = np.where(first, shortfall, a["shortfall"][rows, actor])
        a["issues"][rows, actor] = np.where(first[:, None], on_table, a["issues"][rows, actor])
        a["blocked"][rows, actor] |= no

    def _record(self, t, proposal, accept, blocker, reason, ref):
        rows = proposal.rows
        failed = ~accept
        if proposal.gate:
            first = proposal.phase == 0
            for name, value in (("blocker", blocker), ("reason", reason), ("reason_ref", ref)):
                column = getattr(self, name)
                column[rows] = np.where(failed & first, value, column[rows])
            self.blocker[rows] = np.where(accept & first, -1, self.blocker[rows])
            self.reason[rows] = np.where(accept & first, 0, self.reason[rows])
            for h, phase in enumerate(self.phases):
                declared = accept & (proposal.phase == h)
                self.declared_round[rows, h] = np.where(declared, t, self.declared_round[rows, h])
                self.world.flags[rows, self.world.flag(f"declared_{phase.id}")] |= declared
            later = failed & ~first
        else:
            later = failed
            self.open_blocker[rows] = np.where(accept, -1, self.open_blocker[rows])
            self.open_reason[rows] = np.where(accept, 0, self.open_reason[rows])
        for name, value in (("open_blocker", blocker), ("open_reason", reason), ("open_ref", ref)):
            column = getattr(self, name)
            column[rows] = np.where(later, value, column[rows])
        agreed = accept[:, None] & proposal.on_table
        self.agreed_round[rows] = np.where(agreed, t, self.agreed_round[rows])
        self.agreed_value[rows] = np.where(agreed, proposal.package, self.agreed_value[rows])
        for i, issue in enumerate(self.issue_index):
            self.world.flags[rows, self.world.flag(f"agreed_{issue}")] |= agreed[:, i]
        self.progress_round[rows] = np.where(accept, t, self.progress_round[rows])

    def table_package(self, t: int, proposal: Proposal) -> np.ndarray:
        """The package tabled for ``proposal`` under the protocol's rule (values off the table are unused)."""
        rule, rows = self.spec.protocol.rule, proposal.rows
        if rule == "compromise":
            k = self.at_table
            weight = self.salience[np.ix_(rows, k)] * ~self.vetoed[k][None]  # a vetoed third party has no say there
            raw = rules.weighted_compromise(self.positions[np.ix_(rows, k)], self.capability[np.ix_(rows, k)], weight)
            return rules.project(raw, proposal.low, proposal.high)
        p = self.principal_index
        frontier = rules.frontier(
            self.ideal[rows, p[0]],
            self.ideal[rows, p[1]],
            proposal.salience[:, p[0]],
            proposal.salience[:, p[1]],
            proposal.low,
            proposal.high,
        )
        if rule == "nash":
            disagreement = np.maximum(self.reservation[rows] - self.pressure[rows], 0.0)[:, p]
            return rules.nash_point(*frontier, disagreement)[0]
        if rule == "alternating":
            proposer = (self.first_proposer + t - 1) % 2
            column = p[proposer]
            package, u = rules.frontier_at(*frontier, proposer, self.threshold[rows, column])
            self.threshold[rows, column] = np.minimum(self.threshold[rows, column], u[:, proposer])
            return package
        tabler = self.spec.protocol.tabled_by[(t - 1) % len(self.spec.protocol.tabled_by)]
        thresholds = (self.threshold[rows] - proposal.bonus)[:, p]
        return self.agents[self.actor_index[tabler]].bridge(frontier, thresholds, proposal)

    # ----------------------------------------------------------------- after the answers
    def _milestones(self, t):
        for k, key in enumerate(self._milestone_keys):
            needed = self.milestone_issues[k]
            ready = np.all((self.agreed_round[:, needed] >= 0) & (self.agreed_round[:, needed] < t), axis=-1)
            h = self.milestone_phase[k]
            if h >= 0:
                ready &= (self.declared_round[:, h] >= 0) & (self.declared_round[:, h] < t)
            ready &= self.live & (self.milestone_round[:, k] < 0)
            if not ready.any():
                continue
            u = streams.uniform(self.seed, self.run_ids, MILESTONE_STREAM, key, t)
            done = ready & (u < self.numbers(self.spec.milestones[k].hazard))
            self.milestone_round[:, k] = np.where(done, t, self.milestone_round[:, k])
            self.world.set_flag(f"done_{self.spec.milestones[k].id}", done)
            self.progress_round = np.where(done, t, self.progress_round).astype(np.int32)

    def apply(self, effects, fired) -> None:
        """An event's effects on pressure, reservations, positions and alignment, where it ``fired``."""
        for actor, amount in effects.pressure.items():
            self.pressure[:, self.actor_index[actor]] += np.where(fired, self.numbers(amount), 0.0)
        for actor, shift in effects.reservation.items():
            a = self.actor_index[actor]
            self.reservation[:, a] = np.clip(self.reservation[:, a] + np.where(fired, self.numbers(shift), 0.0), 0, 1)
        for actor, shifts in effects.position.items():
            for issue, shift in shifts.items():
                a, i = self.actor_index[actor], self.issue_index[issue]
                self.ideal[:, a, i] = np.clip(self.ideal[:, a, i] + np.where(fired, self.numbers(shift), 0.0), 0, 100)
        for actor, align in effects.align.items():
            a, b = self.actor_index[actor], self.actor_index[align.toward]
            share = np.where(fired, self.numbers(align.share), 0.0)[:, None]
            self.ideal[:, a] = np.clip(self.ideal[:, a] + share * (self.ideal[:, b] - self.ideal[:, a]), 0, 100)

    def _preconditions_met(self, t):
        for j, p in enumerate(self.spec.preconditions):
            newly = self.world.flags[:, self.world.flag(p.flag)] & (self.precondition_met[:, j] < 0)
            newly &= self.precondition_waived[:, j] < 0
            self.precondition_met[:, j] = np.where(newly, t, self.precondition_met[:, j])

    def pending_precondition(self, rows: np.ndarray, actor: int, phase: np.ndarray) -> np.ndarray:
        """The first precondition of ``actor`` that ``phase``'s gate applies and that is neither met nor
        waived, or -1, in each of the runs ``rows``."""
        out = np.full(len(rows), -1)
        for j in reversed(np.flatnonzero(self.precondition_owner == actor)):
            open_ = (self.precondition_met[rows, j] < 0) & (self.precondition_waived[rows, j] < 0)
            out = np.where(open_ & self.phase_preconditions[phase, j], j, out)
        return out

    def _concede(self):
        """Principals concede on their own clocks, which run while talks are open and their own
        preconditions are met or waived."""
        before = self.share.copy()
        engaged = np.stack([a.engaged() for a in self.agents], axis=1) & (self.live & self.talks_open)[:, None]
        self.clock += engaged
        others = self._others_moved()
        for p in self.principals:
            a = p.index
            if self.strategy[a] in TIME_STRATEGIES:
                self.share[:, a] = rules.concession_share(self.clock[:, a], self.deadline[:, a], self.exponent[:, a])
            elif self.strategy[a] == "responsive":
                base = np.where(engaged[:, a], 1.0 / self.deadline[:, a], 0.0)
                moved = np.where(engaged[:, a], others[:, a], 0.0)
                self.share[:, a] = rules.responsive_share(self.share[:, a], base, self.reciprocity[:, a], moved)
        self.moved = self.share - before
        if "zeuthen" in self.strategy:
            p = self.principal_index
            zeuthen = np.array([self.strategy[a] == "zeuthen" for a in p])
            disagreement = np.maximum(self.reservation - self.pressure, 0.0)[:, p]
            low, high = self.box(np.ones_like(engaged))
            self.zeuthen_aspiration = rules.zeuthen_step(
                *self._frontier(self.salience, low, high),
                self.zeuthen_aspiration,
                disagreement,
                self.step_size[:, p],
                engaged[:, p] & zeuthen,
            )

    def _others_moved(self) -> np.ndarray:
        """For each principal, how far the other principals conceded last round (their mean share)."""
        p = self.principal_index
        out = np.zeros_like(self.moved)
        if len(p) > 1:
            total = self.moved[:, p].sum(axis=1, keepdims=True)
            out[:, p] = (total - self.moved[:, p]) / (len(p) - 1)
        return out

    def _close(self):
        """At the horizon: a run whose talks never opened says so."""
        never = self.live & ~self.talks_open & (self.declared_round[:, 0] < 0)
        self.reason = np.where(never, NO_TALKS, self.reason)
        self.blocker = np.where(never, -1, self.blocker)

    def _trajectory_rows(self) -> dict[str, np.ndarray]:
        """This round's state of the recorded runs in long format: a row per (run, actor, issue)."""
        shown = self.trajectory_mask
        runs, actors, issues = np.count_nonzero(shown), len(self.spec.actors), len(self.issue_index)
        r, a, i = np.meshgrid(np.arange(runs), np.arange(actors), np.arange(issues), indexing="ij")
        per_actor = {name: getattr(self, name)[shown][r, a].ravel() for name in ("threshold", "value", "pressure")}
        return {
            "run": self.run_ids[shown][r.ravel()],
            "round": np.full(r.size, self.steps, dtype=np.int64),
            "actor": np.array([x.id for x in self.spec.actors], dtype=object)[a.ravel()],
            "issue": np.array(list(self.issue_index), dtype=object)[i.ravel()],
            "position": self.stated_positions()[shown][r, a, i].ravel(),
            "package": self.tabled[shown][r, i].ravel(),
            **per_actor,
        }

    def run(self) -> NegotiationModel:
        """Play rounds while ``running`` (Mesa's ``run_model``); returns the model."""
        self.run_model()
        return self
