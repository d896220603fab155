"""The negotiation as a Mesa model that plays a block of independent runs in lockstep.

Everything that differs between runs (sampled parameters, the alternative of each structural mechanism,
positions, flags, pressure, what has been declared and agreed) is an array over the block; the decision rules
in :mod:`sim.engine.rules` broadcast over it. A block of one run is an ordinary single negotiation.

One :meth:`NegotiationModel.step` is one round (a week by default):

1. the world: the stall clock, events (scheduled, hazards, incidents, summits convened by third parties), the
   breakdown hazard, which responds to the state of the talks (:mod:`sim.engine.risk`), and expiries;
2. preconditions met, talks opened; third parties act on the last round's answers (they press principals who
   said no and offer guarantees); principals waive preconditions under pressure, an act that takes effect at once;
3. proposals (:mod:`sim.engine.proposals`): the next phase's gate under its declaration rule, the issues still
   open inside declared phases, and explicit endorsements of announced phases; each is tabled, answered and
   decided (:mod:`sim.engine.declaration`);
4. implementation (:mod:`sim.engine.implementation`): milestones carried out, verified, extended or missed;
5. pressure fades, red lines are relaxed (at an audience cost) under pressure, and principals concede on their
   own clocks, which run while talks are open and no precondition that freezes them is open.

Nothing depends on the horizon but when observation stops.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.engine import (
    concession,
    declaration,
    effects,
    implementation,
    preconditions,
    proposals,
    risk,
    rules,
    setup,
    streams,
)
from sim.engine.agents import ROLE_CLASSES, Principal
from sim.engine.columns import (
    COLLAPSE,
    COLLAPSED,
    DECLARED,
    NO_TALKS,
    STALEMATE,
    TRAJECTORY_COLUMNS,
    collapse_causes,
)
from sim.engine.numbers import Numbers
from sim.engine.resume import resume
from sim.engine.start import begin
from sim.engine.world import WorldState
from sim.scenario.mechanisms import switched
from sim.scenario.schema import Scenario


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
            "the block, chunk or worker that plays it; draw with model.draws.uniform(key, ...)"
        )


class NegotiationModel(mesa.Model):
    """A negotiation under the scenario ``spec`` for the runs ``run_ids`` (indices in the batch).

    ``spec`` is negsim's scenario (the validated YAML file; with mechanisms, the copy whose switched fields each
    run reads under the alternative it drew); Mesa's own ``scenario`` attribute is not used. ``overrides``
    replaces the draws of uncertain parameters (by path, one value per run), e.g. for a sensitivity design.
    ``trajectories`` records per-round state for the runs with index below it, in Mesa's ``datacollector``: its
    table ``trajectories`` (long format, :func:`sim.engine.tables.trajectory_table`) and, per round, the recorded
    runs' thresholds and values of the gate package.

    Mesa's own state drives the loop: ``steps`` is the round just played, ``running`` turns false at the horizon
    or once every run has collapsed, and ``agents`` / ``agents_by_type`` hold the actors (one agent per actor, in
    scenario order). Numbers are read one way: through ``numbers``, a float where the scenario fixes them and an
    array over the block where it draws them. Block arrays hold what changes during a run and what the rules take
    per actor or issue (``n`` runs, ``A`` actors, ``I`` issues, ``H`` phases, ``R`` red lines, ``P``
    preconditions, ``V`` veto players, ``L`` levers, ``G`` guarantees, ``K`` milestones, ``X`` expiries;
    utilities in [0, 1], issue values on 0-100; rounds are -1 where something has not happened):

    ==================================  ===========  ================================================
    ``ideal``, ``salience``             (n, A, I)    ideal positions (moved by events); issue weights
    ``capability``, ``reservation``     (n, A)       clout in a compromise; utility of no deal
    ``clock``, ``share``                (n, A)       rounds conceding; share of the way to reservation
    ``pressure``, ``budget``            (n, A)       leverage on each actor; political capital left
    ``threshold``, ``value``            (n, A)       held out for / value of this round's gate proposal
    ``tabled``                          (n, I)       the latest package tabled on each issue
    ``talks_open``                      (n,)         whether talks have opened
    ``phase_rule``                      (n, H)       how each phase is declared (CONSENT, ...)
    ``declared_round``                  (n, H)       round each phase was declared (or announced)
    ``consented_round``                 (n, H)       round every party explicitly accepted it
    ``agreed_round``, ``agreed_value``  (n, I)       round and value each issue was agreed at
    ``resolving``                       (n, I)       a framework's interval still to agree as a point
    ``milestone_round``                 (n, K)       round each milestone was carried out
    ``milestone_status``                (n, K)       how it ended (PENDING, DONE, PARTIAL, EXTENDED, MISSED)
    ``milestone_extended``              (n, K)       extensions of its deadline granted
    ``expiry_left``                     (n, X)       the actor that left each renewable agreement
    ``collapse_round``, ``_ref``        (n,)         round and cause of a collapse
    ``red_line_min``, ``_max``          (n, R)       red lines' bounds (-inf / +inf if open)
    ``veto_min``, ``veto_max``          (n, V, I)    domestic veto players' bounds
    ``precondition_met``/``waived``     (n, P)       round each was met / waived
    ``credibility``                     (n, L)       share of each lever's strength that bites
    ``guarantee_round``                 (n, G)       round each guarantee was offered
    ``blocker``, ``reason``, ``_ref``   (n,)         what last stopped the first phase's declaration
    ``world``                           WorldState   flags (n, flags) and event history
    ==================================  ===========  ================================================

    Blockers index actors, then veto players (``A + v``); -1 is nobody.
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
        self.spec, self.seed = switched(spec), seed
        spec = self.spec
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
        self.phases = spec.ordered_phases()
        setup.actors(self)
        setup.red_lines(self)
        setup.preconditions(self)
        setup.phases(self)
        setup.implementation(self)
        setup.third_parties(self)
        tablers = [self.actor_index[a] for a in spec.protocol.tabled_by]
        speaking = np.flatnonzero(self.phase_parties.any(axis=0) | self.phase_declarers.any(axis=0))
        self.valuers = np.array(sorted({*self.principal_index, *speaking}))  # who values what is tabled
        self.answering = np.array(sorted({*self.principal_index, *np.flatnonzero(self.phase_parties.any(axis=0))}))
        self.judges = np.array(sorted({*self.valuers, *tablers}))  # who weighs the issues on the table
        self.unheard = np.setdiff1d(np.arange(len(spec.actors)), self.judges)  # and who does not
        self.third_party_parties = [
            a for a in speaking if self.roles[a] != "principal" and self.phase_parties[:, a].any()
        ]
        self.world = WorldState(spec, self.numbers, seed, self.run_ids, self.actor_index)
        self.draws = streams.Stream(seed, self.run_ids)  # the block's runs' streams, for draws keyed by name
        self.declared_flags = np.array([self.world.flag(f"declared_{p.id}") for p in self.phases])
        self.agreed_flags = np.array([self.world.flag(f"agreed_{i}") for i in self.issue_index])
        seated = [self.actor_index[a.id] for a in spec.seated]
        self.at_table = np.array([self.actor_index[a] for a in spec.protocol.at_table] or seated)
        self.positions = None  # stated positions at the start of the round, for a compromise
        self.causes = collapse_causes(spec)
        self.talks_open = np.zeros(n, dtype=bool)
        self.collapse_round, self.collapse_ref = np.full(n, -1, dtype=np.int32), np.full(n, -1, dtype=np.int32)
        self.progress_round, self.last_incident = np.full(n, -1, dtype=np.int32), np.full(n, -1, dtype=np.int32)
        self.stall_since, self.stall_started = np.zeros(n, dtype=np.int32), np.zeros(n, dtype=bool)
        self.blocker, self.reason, self.reason_ref = self._no_reason(n)
        self.open_blocker, self.open_reason, self.open_ref = self._no_reason(n)
        self._answers = self._no_answers(n)
        many = len(self.principals) > 2  # who accepted the first phase's declaration (principals), recorded for > 2
        self.coalition = np.zeros((n, len(self.principals)), dtype=bool) if many else None
        self.threshold = np.zeros((n, len(spec.actors)))
        self.solved = proposals.Solved(n)  # the N-party problems each run last solved, and their answers
        self.value = np.full((n, len(spec.actors)), np.nan)
        low, high = self.box(np.ones((n, len(spec.actors)), dtype=bool))
        k = self.at_table
        compromise = rules.weighted_compromise(self.ideal[:, k], self.capability[:, k], self.salience[:, k])
        self.tabled = rules.project(compromise, low, high)
        self.text, self.text_tabled = np.full(low.shape, np.nan), np.zeros(n, dtype=bool)
        setup.offers(self, low, high)
        begin(self, spec.start)
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

    def next_phase(self) -> np.ndarray:
        """The index of the next phase to declare in each run (``H`` once all are declared)."""
        return np.sum(self.declared_round >= 0, axis=-1)

    def aspirations(self, rows=slice(None)) -> np.ndarray:
        """Utility each actor holds out for this round (runs x actors), before pressure, in the runs ``rows`` (default:
        all): a principal's falls as it concedes; a third party's is its reservation."""
        reservation = self.reservation[rows]
        asp = np.where(self.roles == "principal", rules.aspiration(self.share[rows], reservation), reservation)
        for k, p in enumerate(self.principals):
            if self.strategy[p.index] == "zeuthen":
                asp[:, p.index] = self.zeuthen_aspiration[rows, k]
            elif self.strategy[p.index] == "subgame_perfect":
                asp[:, p.index] = self.subgame_perfect[min(self.steps, self.horizon) - 1][rows, k]
        return asp

    def stated_positions(self, actors=slice(None), rows=slice(None)) -> np.ndarray:
        """What ``actors`` (default: all) say they want now (runs x actors x issues), in the runs ``rows`` (default:
        all): a principal's ideal moved by its concessions toward the table; a third party's ideal as it stands."""
        asp, reservation = self.aspirations(rows)[:, actors], self.reservation[rows][:, actors]
        share = 1.0 - (asp - reservation) / np.maximum(1.0 - reservation, rules.EPS)
        share = np.where(self.roles[actors] == "principal", share, 0.0)
        ideal, tabled = self.ideal[rows][:, actors], self.tabled[rows][:, None, :]
        return rules.stated_position(ideal, tabled, np.clip(share, 0, 1))

    def box(self, parties: np.ndarray, rows=slice(None)):
        """The packages low..high (per run, per issue) that the red lines of ``parties`` (runs x actors) allow, in
        the runs ``rows`` (default: all) that ``parties`` belongs to."""
        shape = (parties.shape[0], len(self.issue_index))
        low, high = np.zeros(shape), np.full(shape, 100.0)
        line_min, line_max = self.red_line_min[rows], self.red_line_max[rows]
        for j, (i, owner) in enumerate(zip(self.red_line_issue, self.red_line_owner, strict=True)):
            binds = parties[:, owner]
            low[:, i] = np.where(binds, np.maximum(low[:, i], line_min[:, j]), low[:, i])
            high[:, i] = np.where(binds, np.minimum(high[:, i], line_max[:, j]), high[:, i])
        return low, high

    def own_boxes(self, rows) -> tuple[np.ndarray, np.ndarray]:
        """(m, A, I) each actor's own red lines' box, in the runs ``rows``."""
        shape = (len(rows), len(self.spec.actors), len(self.issue_index))
        low, high = np.zeros(shape), np.full(shape, 100.0)
        for j, (i, owner) in enumerate(zip(self.red_line_issue, self.red_line_owner, strict=True)):
            low[:, owner, i] = np.maximum(low[:, owner, i], self.red_line_min[rows, j])
            high[:, owner, i] = np.minimum(high[:, owner, i], self.red_line_max[rows, j])
        return low, high

    def distance(self, source: int, position: np.ndarray, rows=slice(None)) -> np.ndarray:
        """How far ``position`` (runs x issues) is from the ``source`` actor's ideal, weighted by its saliences, in the
        runs ``rows`` (default: all)."""
        return rules.issue_sum(self.salience[rows, source] * np.abs(position - self.ideal[rows, source])) / 100.0

    def frontier(self, salience, low, high):
        i, j = self.principal_index[:2]
        return rules.frontier(self.ideal[:, i], self.ideal[:, j], salience[:, i], salience[:, j], low, high)

    # ----------------------------------------------------------------- one round
    def step(self) -> None:
        t = self.steps  # Mesa counts the round before calling step
        self._world(t)
        preconditions.note_met(self, t)
        self._open_talks(t)
        if self.spec.protocol.rule == "compromise":
            self.positions = self.stated_positions()
        answers = self._answers
        for actor in self.agents:
            actor.act(t, answers)
        for principal in self.principals:
            principal.waive(t)
        self.threshold = np.maximum(self.aspirations() - self.pressure, 0.0)
        self._answers = self._no_answers(self.block_size)
        self.value = np.full_like(self.value, np.nan)
        contested = np.zeros((self.block_size, len(self.issue_index)), dtype=bool)
        for build in (proposals.gate_proposal, proposals.open_proposal, proposals.endorsement):
            proposal = build(self, t)
            contested |= proposal.contested
            if proposal.rows.size:
                declaration.negotiate(self, t, proposal)
        implementation.step(self, t)
        self.pressure *= 1.0 - np.where(self.live, self.numbers(self.spec.protocol.pressure_decay), 0.0)[:, None]
        for principal in self.principals:
            principal.relax(t, contested)
        concession.concede(self)
        if self.trajectory_mask.any():
            self.datacollector.collect(self)
            self.datacollector.add_table_row("trajectories", self._trajectory_rows())
        if t >= self.horizon:
            self._close()
        self.running = t < self.horizon and bool(self.live.any())

    def _world(self, t):
        risk.start_stall_clock(self, t)
        live, scale = self.live, risk.multiplier(self, t)
        since = np.where(self.progress_round >= 0, t - 1 - self.progress_round, -1)
        stalled = risk.quiet_rounds(self, t) >= self.spec.risk.stall_after
        self.world.flags[:, self.world.flag("stalled")] = stalled & self.stall_started & live
        for happened in self.world.happen(t, live, scale, self.budget, since):
            effects.apply(self, happened.event.effects, happened.fired)
            if np.any(self.numbers(happened.event.collapse)):
                self.last_incident = np.where(happened.fired, t, self.last_incident).astype(np.int32)
            self._collapse(happened.collapsed, t, happened.index)
        self._collapse(risk.breakdown(self, t, scale), t, len(self.spec.events))
        for j, ended in risk.expiries(self, t):
            self._collapse(ended, t, len(self.spec.events) + 1 + j)

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

    def framework_broke(self, mask: np.ndarray, phase: np.ndarray, t: int) -> None:
        """A framework declared for ``phase`` broke over its ambiguity: the ceasefire collapses."""
        first = len(self.spec.events) + 1 + len(self.spec.expiries)
        self._collapse(mask, t, first + phase)

    def deadline_missed(self, mask: np.ndarray, milestone: int, t: int) -> None:
        """A missed deadline of ``milestone`` collapsed the ceasefire where ``mask``."""
        self._collapse(mask, t, len(self.causes) - len(self.spec.milestones) + milestone)

    def _open_talks(self, t):
        opening = self.live & ~self.talks_open & self.world.active(self.spec.protocol.opens_when, t)
        self.talks_open |= opening
        self.world.set_flag("talks_open", opening)

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
