"""The negotiation as a Mesa model that plays a block of independent runs in lockstep.

Everything that differs between runs (sampled parameters, positions, flags, pressure,
whether a run has ended) is an array over the block; the decision rules in
:mod:`sim.engine.rules` broadcast over it. A block of one run is an ordinary single negotiation.

One :meth:`NegotiationModel.step` is one round: events -> a package is tabled -> principals
respond -> transition or not -> leverage on whoever blocked -> waivers -> concessions ->
horizon check.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.engine import rules
from sim.engine.agents import ROLE_CLASSES, Principal
from sim.engine.outcomes import COLLAPSE, COLLAPSED, INCOMPATIBLE, ONGOING, STALEMATE, TRANSITION
from sim.engine.values import Values
from sim.engine.world import WorldState
from sim.scenario.schema import Scenario


class _NoDraws:
    """Stands in for Mesa's ``model.rng`` and ``model.random``, which negsim never draws from."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr):
        raise RuntimeError(
            f"model.{self._name}.{attr}: negsim draws every random number from sim.engine.streams "
            "(a function of the seed, the run and named keys), so that a run's numbers do not depend on "
            "the block, chunk or worker that plays it; draw with streams.uniform(model.seed, model.run_ids, ...)"
        )


class NegotiationModel(mesa.Model):
    """A negotiation under the scenario ``spec`` for the runs ``run_ids`` (indices in the batch).

    ``spec`` is negsim's scenario (the validated YAML file); Mesa's own ``scenario`` attribute
    (its experiment-parameter object) is not used. ``overrides`` replaces the draws of uncertain
    parameters (by path, one value per run), e.g. for a sensitivity design. ``trajectories``
    records per-round state (``datacollector``) for the runs with index below it.

    Mesa's own state drives the loop: ``steps`` is the round just played, ``running`` turns
    false once every run has ended and nothing more can happen, or at the horizon, and
    ``agents`` / ``agents_by_type`` hold the actors (one agent per actor, in scenario order).

    Block arrays (``n`` runs, ``A`` actors, ``I`` issues, ``R`` red lines, ``P`` preconditions;
    utilities in [0, 1], issue values on 0-100):

    ==========================  ==============  ===================================================
    ``ideal``                   (n, A, I)       each actor's ideal position (moved by events)
    ``salience``                (n, A, I)       issue weights, summing to 1 per actor
    ``capability``              (n, A)          clout in the weighted compromise
    ``reservation``             (n, A)          utility of no deal (moved by events)
    ``exponent``                (n, A)          shape of time-based concession (0: never)
    ``deadline``                (n, A)          rounds to reach the reservation value
    ``patience``, ``step_size`` (n, A)          discount factor; Zeuthen's concession step
    ``clock``                   (n, A)          rounds each actor has been engaged (conceding)
    ``pressure``                (n, A)          leverage accumulated on each actor
    ``threshold``               (n, A)          what each actor held out for this round
    ``tabled``                  (n, I)          the package on the table
    ``red_line_min/max``        (n, R)          each red line's bounds (-inf / +inf if open)
    ``box_low``, ``box_high``   (n, I)          the packages every red line allows
    ``compatible``              (n,)            whether that box is non-empty
    ``precondition_met``        (n, P)          round met, or -1
    ``precondition_waived``     (n, P)          round waived, or -1
    ``waiver_pressure``         (n, P)          pressure at which each is waived
    ``outcome``                 (n,)            ONGOING / TRANSITION / COLLAPSED / STALEMATE
    ``end_round``               (n,)            the round the run ended (the horizon if it did not)
    ``package``                 (n, I)          the package agreed (NaN without a transition)
    ``blocker``                 (n,)            actor column that blocked last, -1 if none
    ``reason``, ``reason_ref``  (n,)            why (a reason code) and the item it refers to
    ``world``                   WorldState      flags (n, flags) and event history
    ==========================  ==============  ===================================================

    Two-principal protocols (``spec.two_party``) also use ``frontier`` (packages (n, I+1, I),
    utilities (n, I+1, 2)), ``first_proposer`` (0 or 1), ``zeuthen_aspiration`` (n, 2) and
    ``subgame_perfect`` ((horizon, n, 2) offers); each is None where the protocol has no use for it.
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
        self.values = Values(spec, seed, self.run_ids, overrides)
        self.actor_index = {a.id: i for i, a in enumerate(spec.actors)}
        for i, a in enumerate(spec.actors):
            ROLE_CLASSES[a.role](self, a, i)
        self.principal_index = np.array([p.index for p in self.agents_by_type[Principal]])
        self._setup_actors(n)
        self._setup_red_lines(n)
        self._setup_preconditions(n)
        self.world = WorldState(spec, self.values, self.run_ids)
        self.at_table = np.array([self.actor_index[a] for a in spec.protocol.at_table] or range(len(spec.actors)))
        self.outcome = np.full(n, ONGOING, dtype=np.int8)
        self.end_round = np.full(n, self.horizon, dtype=np.int32)
        self.package = np.full((n, len(spec.issues)), np.nan)
        self.blocker = np.full(n, -1, dtype=np.int32)
        self.reason = np.zeros(n, dtype=np.int8)
        self.reason_ref = np.full(n, -1, dtype=np.int32)
        self.threshold = np.zeros((n, len(spec.actors)))
        self.tabled = rules.project(
            rules.weighted_compromise(
                self.ideal[:, self.at_table], self.capability[:, self.at_table], self.salience[:, self.at_table]
            ),
            self.box_low,
            self.box_high,
        )
        self.frontier = self.first_proposer = self.zeuthen_aspiration = self.subgame_perfect = None
        self._setup_frontier()
        self._setup_offers()
        self.trajectory_mask = self.run_ids < trajectories
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "run": lambda m: m.run_ids[m.trajectory_mask],
                "round": "steps",
                "package": lambda m: m.tabled[m.trajectory_mask],
                "threshold": lambda m: m.threshold[m.trajectory_mask],
                "position": lambda m: m.stated_positions()[m.trajectory_mask],
                "pressure": lambda m: m.pressure[m.trajectory_mask],
                "flags": lambda m: m.world.flags[m.trajectory_mask],
                "outcome": lambda m: m.outcome[m.trajectory_mask],
            }
        )
        self.rng, self.random = _NoDraws("rng"), _NoDraws("random")

    # ----------------------------------------------------------------- set-up
    def _per_actor(self, field, n):
        return np.stack([np.broadcast_to(self.values(field(a)), n) for a in self.spec.actors], axis=1).astype(float)

    def _per_issue(self, field, n):
        issues = self.spec.issue_ids()
        return np.stack(
            [
                np.stack([np.broadcast_to(self.values(field(a)[i]), n) for i in issues], axis=-1)
                for a in self.spec.actors
            ],
            axis=1,
        ).astype(float)

    def _setup_actors(self, n):
        self.ideal = self._per_issue(lambda a: a.position, n)
        sal = self._per_issue(lambda a: a.salience, n)
        self.salience = sal / np.maximum(sal.sum(axis=-1, keepdims=True), rules.EPS)
        self.capability = self._per_actor(lambda a: a.capability, n)
        self.reservation = self._per_actor(lambda a: a.reservation, n)
        self.exponent = self._per_actor(lambda a: a.concession.shape(), n)
        self.patience = self._per_actor(lambda a: a.concession.patience, n)
        self.step_size = self._per_actor(lambda a: a.concession.step, n)
        self.deadline = self._per_actor(lambda a: a.concession.deadline or self.horizon, n)
        self.strategy = [a.concession.strategy for a in self.spec.actors]
        self.pressure = np.zeros((n, len(self.spec.actors)))
        self.clock = np.zeros((n, len(self.spec.actors)))

    def _setup_red_lines(self, n):
        lines = self.spec.red_lines
        issues = self.spec.issue_ids()
        self.red_line_issue = np.array([issues.index(r.issue) for r in lines], dtype=int)
        bound = lambda v, d: np.broadcast_to(self.values(v, d), n)
        self.red_line_min = np.stack([bound(r.min, -np.inf) for r in lines], axis=1) if lines else np.zeros((n, 0))
        self.red_line_max = np.stack([bound(r.max, np.inf) for r in lines], axis=1) if lines else np.zeros((n, 0))
        self.box_low = np.zeros((n, len(issues)))
        self.box_high = np.full((n, len(issues)), 100.0)
        for j, i in enumerate(self.red_line_issue):
            self.box_low[:, i] = np.maximum(self.box_low[:, i], self.red_line_min[:, j])
            self.box_high[:, i] = np.minimum(self.box_high[:, i], self.red_line_max[:, j])
        self.compatible = np.all(self.box_low <= self.box_high, axis=-1)

    def _setup_preconditions(self, n):
        pcs = self.spec.preconditions
        self.precondition_met = np.full((n, len(pcs)), -1, dtype=np.int32)
        self.precondition_waived = np.full((n, len(pcs)), -1, dtype=np.int32)
        self.waiver_pressure = (
            np.stack([np.broadcast_to(self.values(p.waiver_pressure), n) for p in pcs], axis=1)
            if pcs
            else np.zeros((n, 0))
        )

    def _setup_frontier(self):
        """Two-principal Pareto frontier inside the red-line box (for Nash, offers and Zeuthen)."""
        if self.spec.two_party:
            i, j = self.principal_index
            self.frontier = rules.frontier(
                self.ideal[:, i],
                self.ideal[:, j],
                self.salience[:, i],
                self.salience[:, j],
                self.box_low,
                self.box_high,
            )

    def _setup_offers(self):
        """Where two-party offers start: Zeuthen aspirations at each principal's best, who proposes first,
        and the subgame-perfect offers of every round (solved once, on the initial frontier)."""
        if self.frontier is None:
            return
        top = self.frontier[1]
        self.zeuthen_aspiration = np.stack([top[:, 0, 0], top[:, -1, 1]], axis=-1)
        first = self.spec.protocol.first_proposer
        self.first_proposer = 0 if first is None else [p.spec.id for p in self.principals].index(first)
        if "subgame_perfect" in self.strategy:
            self.subgame_perfect = rules.subgame_perfect_values(
                *self.frontier,
                self.patience[:, self.principal_index],
                self.reservation[:, self.principal_index],
                self.horizon,
                self.first_proposer,
            )

    # ----------------------------------------------------------------- state
    @property
    def principals(self) -> list[Principal]:
        """The principals, in scenario order."""
        return list(self.agents_by_type[Principal])

    @property
    def negotiating(self) -> np.ndarray:
        return self.outcome == ONGOING

    def aspirations(self) -> np.ndarray:
        """Utility each actor holds out for this round (runs x actors), before pressure."""
        share = rules.concession_share(self.clock, self.deadline, self.exponent)
        asp = rules.aspiration(share, self.reservation)
        for k, p in enumerate(self.principals):
            if self.strategy[p.index] == "zeuthen":
                asp[:, p.index] = self.zeuthen_aspiration[:, k]
            elif self.strategy[p.index] == "subgame_perfect":
                asp[:, p.index] = self.subgame_perfect[self.steps - 1][:, k]
        return asp

    def stated_positions(self) -> np.ndarray:
        """What each actor says it wants now (runs x actors x issues): its ideal moved by its concessions."""
        share = 1.0 - (self.aspirations() - self.reservation) / np.maximum(1.0 - self.reservation, rules.EPS)
        return rules.stated_position(self.ideal, self.tabled[:, None, :], np.clip(share, 0, 1))

    # ----------------------------------------------------------------- one round
    def step(self) -> None:
        t = self.steps  # Mesa counts the round before calling step
        live = self.outcome != COLLAPSED
        for j, event, fired, collapsed in self.world.happen(self.seed, t, live, self.negotiating):
            self._apply(event.effects, fired)
            self._end(collapsed, COLLAPSED, t)
            self.reason = np.where(collapsed, COLLAPSE, self.reason)
            self.reason_ref = np.where(collapsed, j, self.reason_ref)
            self.blocker = np.where(collapsed, -1, self.blocker)
        self._preconditions_met(t)
        self.threshold = np.maximum(self.aspirations() - self.pressure, 0.0)
        package = self.table_package(t)
        blocked = self._respond(package, t)
        decay = np.where(self.negotiating, self.values(self.spec.protocol.pressure_decay), 0.0)
        self.pressure *= 1.0 - decay[:, None]
        for actor in self.agents:
            actor.press(t, blocked)
        self._waivers(t)
        self._concede()
        if self.trajectory_mask.any():
            self.datacollector.collect(self)
        if t >= self.horizon:
            self._end(self.negotiating, STALEMATE, t)
        self.running = t < self.horizon and bool(
            self.negotiating.any() or (self.spec.events and (self.outcome == TRANSITION).any())
        )

    def table_package(self, t: int) -> np.ndarray:
        """Table this round's package under the protocol's rule; a proposer holds out for no more than its offer."""
        rule = self.spec.protocol.rule
        if rule == "compromise":
            stated = self.stated_positions()
            k = self.at_table
            raw = rules.weighted_compromise(stated[:, k], self.capability[:, k], self.salience[:, k])
            package = rules.project(raw, self.box_low, self.box_high)
        elif rule == "nash":
            disagreement = np.maximum(self.reservation - self.pressure, 0.0)[:, self.principal_index]
            package, _, _ = rules.nash_point(*self.frontier, disagreement)
        else:
            proposer = (self.first_proposer + t - 1) % 2
            column = self.principal_index[proposer]
            package, u = rules.frontier_at(*self.frontier, proposer, self.threshold[:, column])
            self.threshold[:, column] = np.minimum(self.threshold[:, column], u[:, proposer])
        self.tabled = package
        return package

    def _respond(self, package, t):
        n = self.block_size
        accept_all = self.compatible.copy()
        blocked = np.zeros((n, len(self.spec.actors)), dtype=bool)
        best = np.full(n, np.iinfo(np.int32).max)
        for order, p in enumerate(self.principals):
            accept, reason, ref = p.respond(package, self.threshold[:, p.index], t)
            accept_all &= accept
            blocked[:, p.index] = ~accept
            score = np.where(accept, np.iinfo(np.int32).max, reason.astype(np.int32) * 1000 + order)
            take = self.negotiating & (score < best)
            best = np.where(take, score, best)
            self.blocker = np.where(take, p.index, self.blocker)
            self.reason = np.where(take, reason, self.reason)
            self.reason_ref = np.where(take, ref, self.reason_ref)
        incompatible = self.negotiating & ~self.compatible
        self.reason = np.where(incompatible, INCOMPATIBLE, self.reason)
        self.blocker = np.where(incompatible, -1, self.blocker)
        self.reason_ref = np.where(incompatible, np.argmax(self.box_low > self.box_high, axis=-1), self.reason_ref)
        done = self.negotiating & accept_all
        self.package[done] = package[done]
        self.blocker = np.where(done, -1, self.blocker)
        self.reason = np.where(done, 0, self.reason)
        self.world.flags[:, self.world.flag("transition")] |= done
        self._end(done, TRANSITION, t)
        return blocked

    def _end(self, mask, outcome, t):
        mask = mask & self.negotiating
        self.outcome = np.where(mask, outcome, self.outcome).astype(np.int8)
        self.end_round = np.where(mask, t, self.end_round).astype(np.int32)

    def _apply(self, effects, fired):
        if not np.any(fired):
            return
        for actor, amount in effects.pressure.items():
            self.pressure[:, self.actor_index[actor]] += np.where(fired, self.values(amount), 0.0)
        for actor, shift in effects.reservation.items():
            a = self.actor_index[actor]
            self.reservation[:, a] = np.clip(self.reservation[:, a] + np.where(fired, self.values(shift), 0.0), 0, 1)
        if effects.position:
            issues = self.spec.issue_ids()
            for actor, shifts in effects.position.items():
                for issue, shift in shifts.items():
                    a, i = self.actor_index[actor], issues.index(issue)
                    self.ideal[:, a, i] = np.clip(
                        self.ideal[:, a, i] + np.where(fired, self.values(shift), 0.0), 0, 100
                    )
            self._setup_frontier()

    def _preconditions_met(self, t):
        for j, p in enumerate(self.spec.preconditions):
            newly = self.world.flags[:, self.world.flag(p.flag)] & (self.precondition_met[:, j] < 0)
            newly &= self.precondition_waived[:, j] < 0
            self.precondition_met[:, j] = np.where(newly, t, self.precondition_met[:, j])

    def _waivers(self, t):
        for j, p in enumerate(self.spec.preconditions):
            if not p.waivable or t < p.earliest_waiver_round:
                continue
            a = self.actor_index[p.actor]
            waive = self.negotiating & (self.precondition_met[:, j] < 0) & (self.precondition_waived[:, j] < 0)
            waive &= rules.waives(self.pressure[:, a], self.waiver_pressure[:, j])
            self.precondition_waived[:, j] = np.where(waive, t, self.precondition_waived[:, j])

    def _concede(self):
        engaged = np.stack([a.engaged() for a in self.agents], axis=1) & self.negotiating[:, None]
        self.clock += engaged
        if "zeuthen" not in self.strategy:
            return
        columns = self.principal_index
        zeuthen = np.array([self.strategy[a] == "zeuthen" for a in columns])
        disagreement = np.maximum(self.reservation - self.pressure, 0.0)[:, columns]
        self.zeuthen_aspiration = rules.zeuthen_step(
            *self.frontier,
            self.zeuthen_aspiration,
            disagreement,
            self.step_size[:, columns],
            engaged[:, columns] & zeuthen,
        )

    def run(self) -> NegotiationModel:
        """Play rounds while ``running`` (Mesa's ``run_model``); returns the model."""
        self.run_model()
        return self
