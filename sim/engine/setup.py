"""A model's block arrays at round 0, from the scenario's numbers (:class:`~sim.engine.numbers.Numbers`).

Each function fills one part of the model: its actors, red lines and veto players, preconditions, phases,
implementation, third parties and, for two-party protocols, the offers solved up front.
"""

from __future__ import annotations

import numpy as np

from sim.engine import rules, streams
from sim.engine.columns import RULES

NOISE_STREAM = streams.key("decision-noise")
BELIEF_STREAM = streams.key("veto-belief")


def per_actor(m, field, default=0.0) -> np.ndarray:
    """(n, A): ``field(actor)`` read for every actor."""
    n = m.block_size
    return np.stack([np.broadcast_to(m.numbers(field(a), default), n) for a in m.spec.actors], axis=1).astype(float)


def per_issue(m, field) -> np.ndarray:
    """(n, A, I): ``field(actor)[issue]`` read for every actor and issue (0 where not given)."""
    n, issues = m.block_size, m.spec.issue_ids()
    rows = [np.stack([np.broadcast_to(m.numbers(field(a).get(i), 0.0), n) for i in issues], -1) for a in m.spec.actors]
    return np.stack(rows, axis=1).astype(float)


def stacked(m, items, field, default=0.0) -> np.ndarray:
    """(n, len(items)): ``field(item)`` read for each item, e.g. each lever's credibility."""
    n = m.block_size
    if not items:
        return np.zeros((n, 0))
    return np.stack([np.broadcast_to(m.numbers(field(x), default), n) for x in items], axis=1).astype(float)


def flags(m, items, field) -> np.ndarray:
    """(n, len(items)) booleans: a category ``field(item)`` for each item, per run where a mechanism switches it."""
    out = np.zeros((m.block_size, len(items)), dtype=bool)
    for k, x in enumerate(items):
        out[:, k] = np.asarray(m.numbers.category(field(x)), dtype=bool)
    return out


def codes(m, value, names: tuple[str, ...]) -> np.ndarray:
    """(n,) the index in ``names`` of a category ``value``, per run where a mechanism switches it."""
    chosen = m.numbers.category(value)
    if isinstance(chosen, str):
        return np.full(m.block_size, names.index(chosen), dtype=np.int8)
    found, inverse = np.unique(chosen.astype(str), return_inverse=True)
    return np.array([names.index(x) for x in found], dtype=np.int8)[inverse]


def actors(m) -> None:
    spec, n = m.spec, m.block_size
    m.ideal = per_issue(m, lambda a: a.position)
    salience = per_issue(m, lambda a: a.salience)
    m.salience = salience / np.maximum(salience.sum(axis=-1, keepdims=True), rules.EPS)
    m.capability = per_actor(m, lambda a: a.capability)
    m.reservation = per_actor(m, lambda a: a.reservation)
    concession = lambda field, default: lambda a: getattr(a.concession, field) if a.concession else default
    m.exponent = per_actor(m, lambda a: a.concession.shape() if a.concession else 0.0)
    m.deadline = per_actor(m, concession("deadline", None), np.inf)
    m.reciprocity = per_actor(m, concession("reciprocity", 0.0))
    m.patience = per_actor(m, concession("patience", 0.95))
    m.step_size = per_actor(m, concession("step", 0.02))
    m.strategy = [a.strategy for a in spec.actors]
    noise = per_actor(m, lambda a: a.noise)
    m.bias = np.stack(
        [noise[:, k] * streams.normal(m.seed, m.run_ids, NOISE_STREAM, streams.key(a.id)) for k, a in
         enumerate(spec.actors)], axis=1)  # fmt: skip
    m.budget = per_actor(m, lambda a: a.budget)
    shape = (n, len(spec.actors))
    m.pressure, m.clock, m.share = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    m.moved = np.zeros(shape)  # share conceded in the last round
    m.audience_cost = np.zeros(shape)


def red_lines(m) -> None:
    """Red lines (each principal's bounds) and domestic veto players' bounds, with the drafters' belief errors."""
    spec, n = m.spec, m.block_size
    lines = spec.red_lines
    m.red_line_issue = np.array([m.issue_index[r.issue] for r in lines], dtype=int)
    m.red_line_owner = np.array([m.actor_index[r.actor] for r in lines], dtype=int)
    m.red_line_min = stacked(m, lines, lambda r: r.min, -np.inf)
    m.red_line_max = stacked(m, lines, lambda r: r.max, np.inf)
    m.relaxed_round = np.full((n, len(lines)), -1, dtype=np.int32)
    players = spec.veto_players
    shape = (n, len(players), len(m.issue_index))
    m.veto_owner = np.array([m.actor_index[v.principal] for v in players], dtype=int)
    m.veto_min, m.veto_max, m.veto_error = np.full(shape, -np.inf), np.full(shape, np.inf), np.zeros(shape)
    m.veto_unmet = np.zeros((n, len(players)), dtype=bool)
    for v, player in enumerate(players):
        for issue, b in player.bounds.items():
            m.veto_min[:, v, m.issue_index[issue]] = m.numbers(b.min, -np.inf)
            m.veto_max[:, v, m.issue_index[issue]] = m.numbers(b.max, np.inf)
        sd = m.numbers(player.belief_error)
        if np.any(sd):
            for issue, i in m.issue_index.items():
                u = streams.normal(m.seed, m.run_ids, BELIEF_STREAM, streams.key(player.id), streams.key(issue))
                m.veto_error[:, v, i] = sd * u


def preconditions(m) -> None:
    pcs, n = m.spec.preconditions, m.block_size
    m.precondition_met = np.full((n, len(pcs)), -1, dtype=np.int32)
    m.precondition_waived = np.full((n, len(pcs)), -1, dtype=np.int32)
    m.precondition_owner = np.array([m.actor_index[p.actor] for p in pcs], dtype=int)
    m.freezes = flags(m, pcs, lambda p: p.freezes_concessions)
    m.waivable = flags(m, pcs, lambda p: p.waivable)


def phases(m) -> None:
    """Each phase's parties, declarers, rule (per run), issues settled and deferred, preconditions, and the
    records of declarations, consents, agreements and frameworks."""
    spec, n = m.spec, m.block_size
    A, n_issues, H = len(spec.actors), len(m.issue_index), len(m.phases)
    m.phase_parties, m.phase_declarers = np.zeros((H, A), dtype=bool), np.zeros((H, A), dtype=bool)
    m.phase_settle, m.phase_defer = np.zeros((H, n_issues), dtype=bool), np.zeros((H, n_issues), dtype=bool)
    m.phase_preconditions = np.zeros((H, len(spec.preconditions)), dtype=bool)
    m.phase_rule = np.zeros((n, H), dtype=np.int8)
    m.defiance, m.ambiguity, m.break_hazard = np.zeros((n, H, A)), np.zeros((n, H)), np.zeros((n, H))
    ids = [p.id for p in spec.preconditions]
    for h, phase in enumerate(m.phases):
        g = phase.gate
        m.phase_parties[h, [m.actor_index[a] for a in g.consent]] = True
        m.phase_declarers[h, [m.actor_index[a] for a in g.declared_by]] = True
        m.phase_settle[h, [m.issue_index[i] for i in spec.settled(phase)]] = True
        m.phase_defer[h, [m.issue_index[i] for i in g.defer]] = True
        m.phase_preconditions[h, [ids.index(p) for p in (ids if g.preconditions is None else g.preconditions)]] = True
        m.phase_rule[:, h] = codes(m, g.rule, RULES)
        for actor, cost in g.defiance.items():
            m.defiance[:, h, m.actor_index[actor]] = m.numbers(cost)
        m.ambiguity[:, h] = m.numbers(g.ambiguity)
        m.break_hazard[:, h] = m.numbers(g.break_hazard)
    m.declared_round = np.full((n, H), -1, dtype=np.int32)
    m.consented_round = np.full((n, H), -1, dtype=np.int32)
    m.agreed_round = np.full((n, n_issues), -1, dtype=np.int32)
    m.agreed_value = np.full((n, n_issues), np.nan)
    m.resolving = np.zeros((n, n_issues), dtype=bool)
    m.framework_low, m.framework_high = np.full((n, n_issues), np.nan), np.full((n, n_issues), np.nan)
    m.framework_round, m.framework_phase = np.full((n, n_issues), -1, dtype=np.int32), np.full((n, n_issues), -1)


def implementation(m) -> None:
    """Milestones (what each implements and waits for, its timetable, and the record of how it went) and who left
    each renewable agreement."""
    spec, n = m.spec, m.block_size
    milestones, ids = spec.milestones, [p.id for p in spec.preconditions]
    K, order = len(milestones), [x.id for x in milestones]
    m.milestone_issues = np.zeros((K, len(m.issue_index)), dtype=bool)
    m.milestone_preconditions = np.zeros((K, len(ids)), dtype=bool)
    m.milestone_requires = np.zeros((K, K), dtype=bool)
    for k, x in enumerate(milestones):
        m.milestone_issues[k, [m.issue_index[i] for i in x.issues]] = True
        m.milestone_preconditions[k, [ids.index(p) for p in x.preconditions]] = True
        m.milestone_requires[k, [order.index(r) for r in x.requires]] = True
    phase_ids = [p.id for p in m.phases]
    m.milestone_phase = np.array([phase_ids.index(x.phase) if x.phase else -1 for x in milestones], dtype=int)
    m.milestone_round = np.full((n, K), -1, dtype=np.int32)
    m.milestone_status = np.zeros((n, K), dtype=np.int8)  # PENDING
    m.milestone_extended = np.zeros((n, K), dtype=np.int32)  # extensions granted
    m.milestone_reported = np.zeros((n, K), dtype=bool)  # carried out, its report disputed (awaiting verification)
    m.missed_hazard = np.zeros(n)  # added to the breakdown hazard by missed deadlines
    m.expiry_left = np.full((n, len(spec.expiries)), -1, dtype=np.int32)  # the actor that left it


def third_parties(m) -> None:
    spec, n = m.spec, m.block_size
    m.credibility = stacked(m, spec.leverage, lambda lev: lev.credibility)
    m.lever_distance = np.zeros((n, len(spec.leverage)))  # how far apart source and target started (scaled pressure)
    for k, lev in enumerate(spec.leverage):
        m.lever_distance[:, k] = m.distance(m.actor_index[lev.source], m.ideal[:, m.actor_index[lev.target]])
    vetoed = {(v.of, v.issue) for v in spec.vetoes}
    m.guarantee_void = np.array([any((g.source, i) in vetoed for i in g.issues) for g in spec.guarantees], dtype=bool)
    m.guarantee_issues = np.zeros((len(spec.guarantees), len(m.issue_index)), dtype=bool)
    for g, guarantee in enumerate(spec.guarantees):
        m.guarantee_issues[g, [m.issue_index[i] for i in guarantee.issues]] = True
    m.guarantee_round = np.full((n, len(spec.guarantees)), -1, dtype=np.int32)
    m.guarantee_target = np.array([m.actor_index[g.target] for g in spec.guarantees], dtype=int)
    m.guarantee_value = stacked(m, spec.guarantees, lambda g: g.value)
    m.vetoed = np.zeros((len(spec.actors), len(m.issue_index)), dtype=bool)
    for v in spec.vetoes:
        m.vetoed[m.actor_index[v.of], m.issue_index[v.issue]] = True


def offers(m, low, high) -> None:
    """Who proposes first, and each principal's chance of being recognised (a random proposer); offers over one
    comprehensive package, solved once, up front: between two principals, Zeuthen aspirations at each one's best
    and the subgame-perfect offers of every round; between more, Baron-Ferejohn's subgame-perfect offers (what
    each principal holds out for as a partner in every round)."""
    m.zeuthen_aspiration = m.subgame_perfect = None
    first = m.spec.protocol.first_proposer
    m.first_proposer = 0 if first is None else [p.actor.id for p in m.principals].index(first)
    chances = m.spec.protocol.recognition
    m.recognition = np.array([chances.get(p.actor.id, 1.0) for p in m.principals])
    if not m.spec.solved_offers:
        return
    p = m.principal_index
    if len(p) > 2:  # subgame-perfect (Baron-Ferejohn) offers; Zeuthen's protocol is refused by the checks
        packages = rules.Packages(m.ideal[:, p], m.salience[:, p], low, high)
        everyone = np.ones((m.block_size, len(p)), dtype=bool)
        _, m.subgame_perfect = rules.baron_ferejohn(
            packages, m.recognition, m.patience[:, p], m.reservation[:, p], everyone, m.spec.protocol.quota, m.horizon
        )
        return
    frontier = m.frontier(m.salience, low, high)
    top = frontier[1]
    m.zeuthen_aspiration = np.stack([top[:, 0, 0], top[:, -1, 1]], axis=-1)
    if "subgame_perfect" in m.strategy:
        m.subgame_perfect = rules.subgame_perfect_values(
            *frontier, m.patience[:, p], m.reservation[:, p], m.horizon, m.first_proposer
        )
