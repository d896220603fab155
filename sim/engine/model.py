"""The negotiation as a Mesa model that plays a block of independent runs in lockstep.

Everything that differs between runs (sampled parameters, positions, flags, pressure,
whether a run has ended) is an array over the block; the decision rules in :mod:`sim.engine.rules`
broadcast over it. A block of one run is an ordinary single negotiation.

One :meth:`NegotiationModel.step` is one round: events -> a package is tabled -> principals
respond -> transition or not -> leverage on whoever blocked -> waivers -> concessions ->
horizon check.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.engine import rules
from sim.engine.agents import COLLAPSE, INCOMPATIBLE, ROLE_CLASSES, Principal
from sim.scenario.parameters import Values
from sim.scenario.schema import Scenario
from sim.engine.world import World

ONGOING, TRANSITION, COLLAPSED, STALEMATE = 0, 1, 2, 3
OUTCOMES = {TRANSITION: "transition", COLLAPSED: "collapse", STALEMATE: "stalemate"}


class NegotiationModel(mesa.Model):
    """A negotiation under ``spec`` for the runs ``runs`` (run indices of the batch).

    ``overrides`` replaces the draws of uncertain parameters (by path, one value per run),
    e.g. for a sensitivity design that chooses each run's parameters.
    """

    def __init__(self, spec: Scenario, runs, seed: int | None = None, trajectories: int = 0,
                 overrides: dict[str, np.ndarray] | None = None):
        seed = spec.meta.seed if seed is None else seed
        super().__init__(rng=seed)
        self.spec, self.seed = spec, seed
        self.runs = np.atleast_1d(np.asarray(runs, dtype=np.int64))
        self.block_size = n = len(self.runs)
        self.horizon = spec.meta.horizon
        self.round = 0
        self.values = Values(spec, seed, self.runs, overrides)
        self.actor_index = {a.id: i for i, a in enumerate(spec.actors)}
        self._setup_actors(n)
        self._setup_red_lines(n)
        self._setup_preconditions(n)
        self.world = World(spec, self.values, self.runs)
        self.actors = [ROLE_CLASSES[a.role](self, a, i) for i, a in enumerate(spec.actors)]
        self.principals = [a for a in self.actors if isinstance(a, Principal)]
        self.pidx = np.array([p.index for p in self.principals])
        self.at_table = np.array([self.actor_index[a] for a in spec.protocol.at_table] or range(len(self.actors)))
        self.outcome = np.zeros(n, dtype=np.int8)
        self.end_round = np.full(n, self.horizon, dtype=np.int32)
        self.package = np.full((n, len(spec.issues)), np.nan)
        self.blocker = np.full(n, -1, dtype=np.int32)
        self.reason = np.zeros(n, dtype=np.int8)
        self.reason_ref = np.full(n, -1, dtype=np.int32)
        self.tabled = rules.project(
            rules.weighted_compromise(self.ideal[:, self.at_table], self.capability[:, self.at_table],
                                      self.salience[:, self.at_table]), self.box_low, self.box_high)
        self._setup_frontier()
        self._setup_offers()
        self.trajectory_mask = self.runs < trajectories
        self.trajectory: list[dict] = []

    # ----------------------------------------------------------------- set-up
    def _per_actor(self, field, n):
        return np.stack([np.broadcast_to(self.values(field(a)), n) for a in self.spec.actors], axis=1).astype(float)

    def _per_issue(self, field, n):
        issues = self.spec.issue_ids()
        return np.stack(
            [np.stack([np.broadcast_to(self.values(field(a)[i]), n) for i in issues], axis=-1)
             for a in self.spec.actors], axis=1).astype(float)

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
        bound = lambda v, d: np.broadcast_to(self.values(v, d), n)  # noqa: E731
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
        self.waiver_pressure = np.stack(
            [np.broadcast_to(self.values(p.waiver_pressure), n) for p in pcs], axis=1) if pcs else np.zeros((n, 0))

    def _setup_frontier(self):
        """Two-principal Pareto frontier inside the red-line box (for Nash, offers and Zeuthen)."""
        needed = self.spec.protocol.rule != "compromise" or {"zeuthen", "subgame_perfect"} & set(self.strategy)
        if not (len(self.principals) == 2 and needed):
            return
        i, j = self.pidx
        self.frontier = rules.frontier(self.ideal[:, i], self.ideal[:, j], self.salience[:, i], self.salience[:, j],
                                       self.box_low, self.box_high)

    def _setup_offers(self):
        """Where two-party offers start: Zeuthen aspirations at each principal's best, who proposes first,
        and the subgame-perfect offers of every round (solved once, on the initial frontier)."""
        if not hasattr(self, "frontier"):
            return
        top = self.frontier[1]
        self.zeuthen_aspiration = np.stack([top[:, 0, 0], top[:, -1, 1]], axis=-1)
        first = self.spec.protocol.first_proposer
        self.first_proposer = 0 if first is None else [p.spec.id for p in self.principals].index(first)
        if "subgame_perfect" in self.strategy:
            self.spe = rules.subgame_perfect_values(
                *self.frontier, self.patience[:, self.pidx], self.reservation[:, self.pidx],
                self.horizon, self.first_proposer)

    # ----------------------------------------------------------------- state
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
                asp[:, p.index] = self.spe[self.round - 1][:, k]
        return asp

    # ----------------------------------------------------------------- one round
    def step(self) -> None:
        self.round += 1
        t = self.round
        live = self.outcome != COLLAPSED
        for j, event, fired, collapsed in self.world.happen(self.seed, t, live, self.negotiating):
            self._apply(event.effects, fired)
            self._end(collapsed, COLLAPSED, t)
            self.reason = np.where(collapsed, COLLAPSE, self.reason)
            self.reason_ref = np.where(collapsed, j, self.reason_ref)
            self.blocker = np.where(collapsed, -1, self.blocker)
        self._preconditions_met(t)
        threshold = np.maximum(self.aspirations() - self.pressure, 0.0)
        package, threshold = self.table(t, threshold)
        blocked = self._respond(package, threshold, t)
        decay = np.where(self.negotiating, self.values(self.spec.protocol.pressure_decay), 0.0)
        self.pressure *= 1.0 - decay[:, None]
        for actor in self.actors:
            actor.press(t, blocked)
        self._waivers(t)
        self._concede(package)
        if self.trajectory_mask.any():
            self._record(t, package, threshold)
        if t >= self.horizon:
            self._end(self.negotiating, STALEMATE, t)
            self.running = False

    def table(self, t: int, threshold: np.ndarray):
        """The package on the table this round under the protocol's rule; thresholds adjusted for proposers."""
        rule = self.spec.protocol.rule
        if rule == "compromise":
            stated = self.stated_positions()
            k = self.at_table
            raw = rules.weighted_compromise(stated[:, k], self.capability[:, k], self.salience[:, k])
            package = rules.project(raw, self.box_low, self.box_high)
        elif rule == "nash":
            disagreement = np.maximum(self.reservation - self.pressure, 0.0)[:, self.pidx]
            package, _, _ = rules.nash_point(*self.frontier, disagreement)
        else:
            proposer = (self.first_proposer + t - 1) % 2
            package, u = rules.frontier_at(*self.frontier, proposer, threshold[:, self.pidx[proposer]])
            threshold = threshold.copy()
            threshold[:, self.pidx[proposer]] = np.minimum(threshold[:, self.pidx[proposer]], u[:, proposer])
        self.tabled = package
        return package, threshold

    def _respond(self, package, threshold, t):
        n = self.block_size
        accept_all = self.compatible.copy()
        blocked = np.zeros((n, len(self.actors)), dtype=bool)
        best = np.full(n, np.iinfo(np.int32).max)
        for order, p in enumerate(self.principals):
            accept, reason, ref = p.respond(package, threshold[:, p.index], t)
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
                    self.ideal[:, a, i] = np.clip(self.ideal[:, a, i] + np.where(fired, self.values(shift), 0.0), 0, 100)
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
            waive &= self.pressure[:, a] >= self.waiver_pressure[:, j]
            self.precondition_waived[:, j] = np.where(waive, t, self.precondition_waived[:, j])

    def _concede(self, package):
        engaged = np.stack([a.engaged() for a in self.actors], axis=1) & self.negotiating[:, None]
        self.clock += engaged
        if "zeuthen" not in self.strategy:
            return
        asp = self.zeuthen_aspiration
        offer0 = rules.frontier_at(*self.frontier, 0, asp[:, 0])[1]
        offer1 = rules.frontier_at(*self.frontier, 1, asp[:, 1])[1]
        d = np.maximum(self.reservation - self.pressure, 0.0)[:, self.pidx]
        risk0 = rules.zeuthen_risk(asp[:, 0], offer1[:, 0], d[:, 0])
        risk1 = rules.zeuthen_risk(asp[:, 1], offer0[:, 1], d[:, 1])
        for k, (mine, theirs) in enumerate(((risk0, risk1), (risk1, risk0))):
            a = self.pidx[k]
            if self.strategy[a] == "zeuthen":
                concede = engaged[:, a] & (mine <= theirs)
                asp[:, k] = np.where(concede, np.maximum(asp[:, k] - self.step_size[:, a], d[:, k]), asp[:, k])

    def stated_positions(self) -> np.ndarray:
        """What each actor says it wants now (runs x actors x issues): its ideal moved by its concessions."""
        share = 1.0 - (self.aspirations() - self.reservation) / np.maximum(1.0 - self.reservation, rules.EPS)
        return rules.stated_position(self.ideal, self.tabled[:, None, :], np.clip(share, 0, 1))

    def _record(self, t, package, threshold):
        m = self.trajectory_mask
        self.trajectory.append({
            "run": self.runs[m], "round": t, "package": package[m].copy(), "threshold": threshold[m].copy(),
            "position": self.stated_positions()[m],
            "pressure": self.pressure[m].copy(), "flags": self.world.flags[m].copy(),
            "outcome": self.outcome[m].copy(),
        })

    def run(self) -> "NegotiationModel":
        """Play rounds to the horizon; stop early once every run has ended and nothing more can happen."""
        while self.round < self.horizon and (
            self.negotiating.any() or (self.spec.events and (self.outcome == TRANSITION).any())
        ):
            self.step()
        return self
