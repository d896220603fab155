"""A proposal tabled, answered, and decided under its rule; what that declares, agrees or breaks.

Every party reads the package: under consent and non-objection as it stands; under a framework as the point
of each issue's interval best for it (inside its own red lines where the interval allows). Principals answer
(:meth:`~sim.engine.agents.Principal.respond`), their domestic veto players ratify or refuse, and a third party
among the parties accepts what it values at least at its reservation. Then, by rule:

- consent and framework: declared when every party accepts;
- non-objection: announced when every declarer is ready (the announcement's conditions hold and it values the
  package at least at its reservation) and no party objects. A party objects when its reading crosses a red line
  of its own, a veto player of its refuses, or going along costs it more than open defiance would: its shortfall
  below what it holds out for (net of the pressure on it), plus the pressure it still lacks to waive each open
  precondition of its own, exceeds its ``defiance`` cost.
"""

from __future__ import annotations

import numpy as np

from sim.engine import preconditions, rules, streams
from sim.engine.columns import (
    FRAMEWORK,
    INCOMPATIBLE,
    NON_OBJECTION,
    OBJECTION,
    OFFER,
    RATIFICATION,
    UNANNOUNCED,
)
from sim.engine.proposals import Proposal, table_package

FRAMEWORK_STREAM = streams.key("framework")
# How an answer ranks when several parties say no (indexed by reason code): a precondition first, then a red
# line, an offer below what it holds out for or an objection, a domestic veto, a declarer not ready; ties go to
# the larger shortfall.
RANK = np.array([9, 0, 1, 2, 9, 9, 3, 9, 2, 4])


class Answers:
    """The refusals of a proposal's parties, and which one stands for it (the highest ranked, then the larger
    shortfall): its blocker (an actor, a veto player as ``A + v``, or -1), reason code and reference."""

    def __init__(self, m: int):
        self.refused = np.zeros(m, dtype=bool)
        self.rank = np.full(m, RANK.max())
        self.worst = np.full(m, -np.inf)
        self.blocker = np.full(m, -1, dtype=np.int32)
        self.reason = np.zeros(m, dtype=np.int8)
        self.ref = np.full(m, -1, dtype=np.int32)

    def add(self, no, why, what, who, shortfall) -> None:
        self.refused |= no
        r = RANK[why]
        take = no & ((r < self.rank) | ((r == self.rank) & (shortfall > self.worst)))
        self.rank, self.worst = np.where(take, r, self.rank), np.where(take, shortfall, self.worst)
        self.blocker = np.where(take, who, self.blocker)
        self.reason = np.where(take, why, self.reason)
        self.ref = np.where(take, what, self.ref)

    def incompatible(self, issues: np.ndarray) -> None:
        """Where red lines cannot meet on an issue on the table, that is the reason, and nobody is the blocker."""
        stuck = rules.any_issue(issues)
        self.refused |= stuck
        self.blocker = np.where(stuck, -1, self.blocker)
        self.reason = np.where(stuck, INCOMPATIBLE, self.reason)
        self.ref = np.where(stuck, np.argmax(issues, axis=-1), self.ref)


def negotiate(m, t: int, proposal: Proposal) -> None:
    """Table ``proposal``, collect the answers, decide under each run's rule and record what it declares."""
    rows, m_rows = proposal.rows, len(proposal.rows)
    if proposal.package is None:
        proposal.package = table_package(m, t, proposal)
    low = np.clip(proposal.package - proposal.width, 0.0, 100.0)
    high = np.clip(proposal.package + proposal.width, 0.0, 100.0)
    announced = proposal.rule == NON_OBJECTION
    any_announced = bool(announced.any())
    valuers = m.valuers if any_announced else m.answering  # the declarers value only what they may announce
    values = values_of(m, proposal, proposal.package[:, None, :], valuers)
    framed = rules.any_issue(proposal.width != 0)
    if framed.any():  # each party reads a framework's text its own way
        texts = readings(m, rows[framed], low[framed], high[framed])
        values[framed] = values_of(m, proposal, texts, valuers, framed)
    if proposal.gate:
        m.value[rows] = np.where(proposal.parties, values, np.nan)
    if proposal.kind != "endorse":
        m.tabled[rows] = np.where(proposal.on_table, proposal.package, m.tabled[rows])
    threshold = m.threshold[rows]
    answers = Answers(m_rows)
    nobody = np.full(m_rows, -1)
    refusals = []
    for p in m.principals:
        a = p.index
        answer = p.respond(proposal, values[:, a], low, high, t)
        shortfall = threshold[:, a] - values[:, a]
        why, what = answer.reason(gated=proposal.kind != "open")
        refuses = why > 0
        if any_announced:  # under an announcement a party says no only by objecting
            hard = (answer.red_line >= 0) | (answer.veto >= 0)
            gap = preconditions.gap(m, rows, a, proposal.phase)
            objects = hard | rules.going_along_costs_more(shortfall, gap, m.defiance[rows, proposal.phase, a])
            objected, on = answer.objection()
            why, what = np.where(announced, objected, why), np.where(announced, on, what)
            refuses = np.where(announced, objects, refuses)
        no = proposal.parties[:, a] & refuses
        who = np.where(why == RATIFICATION, len(m.spec.actors) + what, a)
        refusals.append((no, why, what, who, shortfall / np.maximum(1.0 - m.reservation[rows, a], rules.EPS)))
        if proposal.kind != "endorse":
            remember(m, rows, a, no, why, shortfall, proposal.on_table)
    binding = quota_binds(m, proposal, np.stack([no for no, *_ in refusals], axis=-1))
    for no, *why in refusals:
        answers.add(no & binding, *why)
    for a in m.third_party_parties:
        shortfall = threshold[:, a] - values[:, a]
        refuses = shortfall > 1e-9
        objects = refuses & rules.going_along_costs_more(shortfall, 0.0, m.defiance[rows, proposal.phase, a])
        no = proposal.parties[:, a] & np.where(announced, objects, refuses)
        answers.add(no, np.where(announced, OBJECTION, OFFER), nobody, np.full(m_rows, a), shortfall)
    if proposal.gate:
        answers.incompatible(proposal.on_table & (proposal.low > proposal.high))
    if any_announced:
        unready = unready_declarer(m, t, proposal, values)
        answers.add(announced & (unready >= 0), np.full(m_rows, UNANNOUNCED), nobody, unready, 0.0)
    accept = ~answers.refused
    if proposal.gate and m.coalition is not None:
        first = accept & (proposal.phase == 0)
        accepted = proposal.parties[:, m.principal_index] & ~np.stack([no for no, *_ in refusals], axis=-1)
        m.coalition[rows[first]] = accepted[first]
    record(m, t, proposal, accept, answers)
    if proposal.kind == "open":
        _strain(m, t, proposal, accept)


def quota_binds(m, proposal, refused: np.ndarray) -> np.ndarray:
    """Whether the principals' refusals (m, P) block a proposal: under a quota only when fewer than ``quota`` of
    the principals party to it accept; without one, any refusal does."""
    quota = m.spec.protocol.quota
    if quota is None:
        return np.ones(len(refused), dtype=bool)
    parties = proposal.parties[:, m.principal_index]
    return (parties & ~refused).sum(axis=-1) < np.minimum(quota, parties.sum(axis=-1))


def _strain(m, t: int, proposal: Proposal, accept: np.ndarray) -> None:
    """A framework whose interval could not be agreed as a point this round breaks with its phase's chance."""
    rows = proposal.rows
    framed = proposal.on_table & m.resolving[rows]
    failed = ~accept & rules.any_issue(framed)
    if not failed.any():
        return
    phase = np.max(np.where(framed, m.framework_phase[rows], -1), axis=-1)
    u = m.draws.uniform(FRAMEWORK_STREAM, t, rows=rows)
    broke = failed & (u < m.break_hazard[rows, np.maximum(phase, 0)])
    mask, which = np.zeros(m.block_size, dtype=bool), np.zeros(m.block_size, dtype=int)
    mask[rows], which[rows] = broke, phase
    m.framework_broke(mask, which, t)


def readings(m, rows, low, high) -> np.ndarray:
    """(m, A, I) the point each actor reads a framework's text [low, high] as (inside its own red lines where the
    text allows)."""
    own_low, own_high = m.own_boxes(rows)
    return rules.reading(m.ideal[rows], own_low, own_high, low[:, None, :], high[:, None, :])


def values_of(m, proposal, texts, valuers: np.ndarray, which=slice(None)) -> np.ndarray:
    """The value of the package to each actor of ``valuers``, as it reads it (``texts``: (k, A, I) readings, or
    (k, 1, I) a point package everyone reads alike), NaN for others, in the proposal's runs ``which``: utility over
    the issues on the table, plus its guarantees and its per-run bias."""
    j, rows = valuers, proposal.rows[which]
    values = np.full((len(rows), len(m.spec.actors)), np.nan)
    texts = texts if texts.shape[1] == 1 else texts[:, j]
    u = rules.utility(texts, m.ideal[rows][:, j], proposal.salience[which][:, j])
    values[:, j] = u + proposal.bonus[which][:, j] + m.bias[rows][:, j]
    return values


def unready_declarer(m, t: int, proposal, values) -> np.ndarray:
    """The first of a phase's declarers not ready to announce it (its conditions do not hold, or it values the
    package below its reservation), or -1, in each of the proposal's runs."""
    out = np.full(len(proposal.rows), -1)
    for h, phase in enumerate(m.phases):
        when = m.world.active(phase.gate.declare_when, t)[proposal.rows]
        for a in reversed(np.flatnonzero(m.phase_declarers[h])):
            unready = (proposal.phase == h) & (~when | (values[:, a] < m.reservation[proposal.rows, a] - 1e-9))
            out = np.where(unready, a, out)
    return out


def remember(m, rows, actor, no, why, shortfall, on_table):
    """Keep the first refusal of a round (the gate's before the open issues') for the third parties."""
    a = m._answers
    first = no & ~a["blocked"][rows, actor]
    runs = rows[first]
    a["reason"][runs, actor], a["shortfall"][runs, actor], a["issues"][runs, actor] = (
        why[first],
        shortfall[first],
        on_table[first],
    )
    a["blocked"][rows[no], actor] = True


def record(m, t, proposal, accept, answers) -> None:
    """What a decided proposal leaves: declarations (with their consents, points or a framework's intervals),
    agreements, endorsements, progress, and what blocked it."""
    rows, on_table = proposal.rows, proposal.on_table
    if proposal.kind == "endorse":
        m.consented_round[rows, proposal.phase] = np.where(accept, t, m.consented_round[rows, proposal.phase])
        m.progress_round[rows] = np.where(accept, t, m.progress_round[rows])
        return
    failed = ~accept
    if proposal.gate:
        first = proposal.phase == 0
        for name, value in (("blocker", answers.blocker), ("reason", answers.reason), ("reason_ref", answers.ref)):
            column = getattr(m, name)
            column[rows] = np.where(failed & first, value, column[rows])
        m.blocker[rows] = np.where(accept & first, -1, m.blocker[rows])
        m.reason[rows] = np.where(accept & first, 0, m.reason[rows])
        h = proposal.phase
        m.declared_round[rows, h] = np.where(accept, t, m.declared_round[rows, h])
        explicit = accept & (proposal.rule != NON_OBJECTION)
        m.consented_round[rows, h] = np.where(explicit, t, m.consented_round[rows, h])
        if accept.any():
            m.world.flags[rows[accept], m.declared_flags[h[accept]]] = True
        framed = (accept & (proposal.rule == FRAMEWORK))[:, None] & on_table
        _frame(m, t, rows, framed, proposal)
        on_table = on_table & ~framed
        later = failed & ~first
    else:
        later = failed
        m.open_blocker[rows] = np.where(accept, -1, m.open_blocker[rows])
        m.open_reason[rows] = np.where(accept, 0, m.open_reason[rows])
    for name, value in (
        ("open_blocker", answers.blocker),
        ("open_reason", answers.reason),
        ("open_ref", answers.ref),
    ):
        column = getattr(m, name)
        column[rows] = np.where(later, value, column[rows])
    done, agreed = rows[accept], on_table[accept]
    m.agreed_round[done] = np.where(agreed, t, m.agreed_round[done])
    m.agreed_value[done] = np.where(agreed, proposal.package[accept], m.agreed_value[done])
    m.resolving[done] &= ~agreed
    m.world.flags[np.ix_(done, m.agreed_flags)] |= agreed
    m.progress_round[done] = t


def _frame(m, t, rows, framed, proposal) -> None:
    """A framework's settled issues become intervals to be agreed as points later."""
    which = rules.any_issue(framed)
    if not which.any():
        return
    rows, framed, package, width = rows[which], framed[which], proposal.package[which], proposal.width[which]
    low, high = np.clip(package - width, 0.0, 100.0), np.clip(package + width, 0.0, 100.0)
    m.framework_low[rows] = np.where(framed, low, m.framework_low[rows])
    m.framework_high[rows] = np.where(framed, high, m.framework_high[rows])
    m.framework_round[rows] = np.where(framed, t, m.framework_round[rows])
    m.framework_phase[rows] = np.where(framed, proposal.phase[which][:, None], m.framework_phase[rows])
    m.resolving[rows] |= framed
