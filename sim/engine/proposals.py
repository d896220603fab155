"""What is on the table in a round, between whom, and inside which bounds the drafters draft.

Three kinds of proposal, each over the runs where it is live this round:

- ``gate``: the next phase's settled issues, between its parties, under its declaration rule;
- ``open``: inside declared phases, the deferred issues not yet agreed, and the issues a framework left as
  intervals, which must now be agreed as points inside them;
- ``endorse``: a phase announced under non-objection whose parties have not yet all explicitly accepted it:
  its terms as announced, answered as under consent.

Drafters draft inside the parties' red lines and, where they overlap with them, inside the bounds the
drafters believe each domestic veto player holds (exactly, or with the scenario's belief error).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine import rules, streams
from sim.engine.columns import CONSENT, FRAMEWORK, INCOMPATIBLE

PROPOSER_STREAM = streams.key("proposer")


@dataclass
class Proposal:
    """One proposal of a round, over a block: which runs negotiate it, on which issues, between whom."""

    kind: str  # "gate", "open" or "endorse"
    rows: np.ndarray  # (m,) the runs where it is on the table this round; the arrays below are theirs
    on_table: np.ndarray  # (m, I) issues it settles
    parties: np.ndarray  # (m, A) parties whose acceptance (or non-objection) it needs
    phase: np.ndarray  # (m,) the phase a gate or an endorsement is about
    rule: np.ndarray  # (m,) how it is decided: CONSENT, NON_OBJECTION or FRAMEWORK
    low: np.ndarray  # (m, I) the packages the drafters may table
    high: np.ndarray
    salience: np.ndarray  # (m, A, I) saliences over the issues on the table
    bonus: np.ndarray  # (m, A) what guarantees add to each principal's value
    contested: np.ndarray  # (n, I) issues whose red lines cannot meet (waiting for a relaxation), in all runs
    package: np.ndarray | None = None  # (m, I) what is tabled
    width: np.ndarray | None = None  # (m, I) a framework's half-width around the package on each issue

    @property
    def gate(self) -> bool:
        return self.kind == "gate"


def gate_proposal(m, t: int) -> Proposal:
    """The next phase's gate, in the runs where talks are open and a phase is still to be declared."""
    H = len(m.phases)
    h = m.next_phase()
    hh = np.minimum(h, H - 1)
    on_table = m.phase_settle[hh] & (m.agreed_round < 0) & ~m.resolving
    active = m.live & m.talks_open & (h < H)
    rule = m.phase_rule[np.arange(m.block_size), hh]
    return _proposal(m, t, "gate", active, on_table, m.phase_parties[hh], hh, rule)


def open_proposal(m, t: int) -> Proposal:
    """Inside phases declared before this round: deferred issues not agreed yet, and a framework's intervals."""
    before = (m.declared_round >= 0) & (m.declared_round < t)  # (n, H)
    deferred = (before[:, :, None] & m.phase_defer[None]).any(axis=1) & (m.agreed_round < 0)
    on_table = deferred | (m.resolving & (m.framework_round < t))
    parties = (before[:, :, None] & m.phase_parties[None]).any(axis=1)
    active = m.live & rules.any_issue(on_table)
    none = np.zeros(m.block_size, dtype=int)
    return _proposal(m, t, "open", active, on_table, parties, none, none + CONSENT)


def endorsement(m, t: int) -> Proposal:
    """The earliest phase announced before this round whose parties have not all accepted it explicitly: its terms
    as announced (the values agreed at the announcement), answered under consent."""
    waiting = (m.declared_round >= 0) & (m.declared_round < t) & (m.consented_round < 0)
    if not waiting.any():
        return _nothing(m)
    h = np.argmax(waiting, axis=-1)
    active = m.live & waiting.any(axis=-1)
    proposal = _proposal(m, t, "endorse", active, m.phase_settle[h], m.phase_parties[h], h, np.full_like(h, CONSENT))
    proposal.package = np.nan_to_num(m.agreed_value[proposal.rows])
    return proposal


def _nothing(m) -> Proposal:
    """A proposal live in no run."""
    n, actors, issues = m.block_size, len(m.spec.actors), len(m.issue_index)
    none = np.zeros(0, dtype=int)
    table = np.zeros((0, issues))
    return Proposal("endorse", none, table.astype(bool), np.zeros((0, actors), bool), none, none, table, table,
                    np.zeros((0, actors, issues)), np.zeros((0, actors)), np.zeros((n, issues), bool))  # fmt: skip


def _proposal(m, t, kind, active, on_table, parties, phase, rule) -> Proposal:
    """A proposal on ``on_table`` between ``parties``, for the runs where it is ``active``. A gate with an issue whose
    red lines cannot meet fails; inside a phase such an issue waits off the table (for a red line to be relaxed)."""
    rows = np.flatnonzero(active)
    on_table, parties, phase, rule = on_table[rows], parties[rows], phase[rows], rule[rows]
    low, high = m.box(parties, rows)
    clash = on_table & (low > high)
    contested = np.zeros((m.block_size, len(m.issue_index)), dtype=bool)
    contested[rows] = clash
    if kind == "open":
        on_table = on_table & ~clash
        left = rules.any_issue(on_table)
        stuck = np.zeros(m.block_size, dtype=bool)
        stuck[rows] = rules.any_issue(clash) & ~left
        note_incompatible(m, stuck, contested)
        rows, on_table, parties, phase, rule = rows[left], on_table[left], parties[left], phase[left], rule[left]
        low, high = low[left], high[left]
        framed = m.resolving[rows]  # a framework's interval bounds what can be agreed on its issues
        low = np.where(framed, np.maximum(low, m.framework_low[rows]), low)
        high = np.where(framed, np.minimum(high, m.framework_high[rows]), high)
    low, high = drafting_box(m, t, rows, parties, on_table, low, high)
    salience = rules.restricted(m.salience[rows], on_table[:, None, :])
    salience[:, m.unheard] = 0.0
    width = np.where(rule == FRAMEWORK, m.ambiguity[rows, phase], 0.0)[:, None] * on_table
    return Proposal(kind, rows, on_table, parties, phase, rule, low, high, salience, bonus(m, rows, salience),
                    contested, width=width)  # fmt: skip


def drafting_box(m, t, rows, parties, on_table, low, high):
    """Narrow the red lines' box to the bounds the drafters believe each domestic veto player of a party holds,
    issue by issue where the two overlap; where they never do, the drafters keep to the red lines, and the
    veto player's terms are recorded as unmet."""
    for v, player in enumerate(m.spec.veto_players):
        holds = m.world.active(player.when, t)[rows]
        applies = (parties[:, m.veto_owner[v]] & holds)[:, None]
        if not applies.any():
            continue
        error = m.veto_error[rows, v]
        new_low = np.maximum(low, m.veto_min[rows, v] + error)
        new_high = np.minimum(high, m.veto_max[rows, v] + error)
        fits = new_low <= new_high
        use = applies & fits
        low, high = np.where(use, new_low, low), np.where(use, new_high, high)
        m.veto_unmet[rows, v] |= rules.any_issue(applies & ~fits & on_table)
    return low, high


def bonus(m, rows, salience) -> np.ndarray:
    """What the guarantees offered so far add to each principal's value of a proposal."""
    out = np.zeros(salience.shape[:2])
    offered = m.guarantee_round[rows] >= 0
    for g in np.flatnonzero(offered.any(axis=0) & ~m.guarantee_void):
        target = m.guarantee_target[g]
        share = rules.issue_sum(salience[:, target] * m.guarantee_issues[g])
        out[:, target] += np.where(offered[:, g], m.guarantee_value[rows, g] * share, 0.0)
    return out


def table_package(m, t: int, proposal: Proposal) -> np.ndarray:
    """The package tabled for ``proposal`` under the protocol's rule (values off the table are unused); a text
    already on the table at the start is tabled as it stands (once; always, if signed)."""
    rule, rows = m.spec.protocol.rule, proposal.rows
    if rule == "compromise":
        k = m.at_table
        weight = m.salience[np.ix_(rows, k)] * ~m.vetoed[k][None]  # a vetoed third party has no say there
        raw = rules.weighted_compromise(m.positions[np.ix_(rows, k)], m.capability[np.ix_(rows, k)], weight)
        package = rules.project(raw, proposal.low, proposal.high)
    elif len(m.principals) == 2:
        package = _two_party_package(m, t, proposal)
    else:
        package = _many_party_package(m, t, proposal)
    text = m.text[rows]
    fixed = ~np.isnan(text) & (m.signed[rows] | ~m.text_tabled[rows, None]) & proposal.on_table
    m.text_tabled[rows] |= rules.any_issue(fixed)
    return np.where(fixed, text, package)


def _two_party_package(m, t: int, proposal: Proposal) -> np.ndarray:
    rows, p = proposal.rows, m.principal_index
    frontier = rules.frontier(
        m.ideal[rows, p[0]],
        m.ideal[rows, p[1]],
        proposal.salience[:, p[0]],
        proposal.salience[:, p[1]],
        proposal.low,
        proposal.high,
    )
    if m.spec.protocol.rule == "nash":
        disagreement = np.maximum(m.reservation[rows] - m.pressure[rows], 0.0)[:, p]
        return rules.nash_point(*frontier, disagreement)[0]
    if m.spec.protocol.rule == "alternating":
        proposer = _proposer(m, t, rows, np.ones((len(rows), 2), dtype=bool))
        package = np.empty_like(proposal.low)
        for k in np.unique(proposer):  # each proposer's offer, in the runs where it proposes
            at, column = proposer == k, p[k]
            package[at], u = rules.frontier_at(*(x[at] for x in frontier), k, m.threshold[rows[at], column])
            m.threshold[rows[at], column] = np.minimum(m.threshold[rows[at], column], u[:, k])
        return package
    tabler = m.spec.protocol.tabled_by[(t - 1) % len(m.spec.protocol.tabled_by)]
    thresholds = (m.threshold[rows] - proposal.bonus)[:, p]
    return m.agents[m.actor_index[tabler]].bridge(frontier, thresholds, proposal)


def _many_party_package(m, t: int, proposal: Proposal) -> np.ndarray:
    """The package tabled between more than two principals (those among the proposal's parties): the Nash
    product; Baron-Ferejohn offers by the principal whose turn it is; a third party's bridging package."""
    rows, p, rule = proposal.rows, m.principal_index, m.spec.protocol.rule
    members = proposal.parties[:, p]
    if rule == "bridging":
        tabler = m.actor_index[m.spec.protocol.tabled_by[(t - 1) % len(m.spec.protocol.tabled_by)]]
        if m.spec.actors[tabler].bridging == "own":  # it drafts for itself: its ideal counts
            p = np.append(p, tabler)
            members = np.concatenate([members, np.zeros((len(rows), 1), dtype=bool)], axis=-1)
    problem = (m.ideal[rows][:, p], proposal.salience[:, p], proposal.low, proposal.high)

    def packages(index):
        return rules.Packages(*(x[index] for x in problem))

    if rule == "nash":
        disagreement = np.maximum(m.reservation[rows] - m.pressure[rows], 0.0)[:, p]
        return m.solved(
            proposal.kind,
            rows,
            (*problem, disagreement, members),
            lambda i: rules.nash_n(packages(i), disagreement[i], members[i])[:1],
        )[0]
    if rule == "bridging":
        thresholds = (m.threshold[rows] - proposal.bonus)[:, p]
        return m.solved(
            proposal.kind,
            rows,
            (*problem, thresholds, members, np.full(len(rows), tabler)),
            lambda i: (m.agents[tabler].bridge_n(packages(i), thresholds[i], members[i]),),
        )[0]
    proposer = _proposer(m, t, rows, members)
    thresholds = m.threshold[rows][:, p]
    partners = rules.cheapest(packages(slice(None)), proposer, thresholds, members, m.spec.protocol.quota)
    offered = partners | _one_hot(proposer, members)
    package, value = m.solved(
        proposal.kind,
        rows,
        (*problem, proposer, thresholds, offered),
        lambda i: rules.best_for(packages(i), proposer[i], thresholds[i], offered[i])[:2],
    )
    column = p[proposer]
    here = np.arange(len(rows))
    m.threshold[rows, column] = np.minimum(m.threshold[rows, column], value[here, proposer])
    return package


def _proposer(m, t: int, rows: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Whose turn it is to propose in each of the runs ``rows``, among the principals party to the proposal
    (``members``): in turn from the first proposer (rotating), or one recognised at random with the chances of
    ``protocol.recognition`` (random: drawn from the proposer stream, one draw per run and round)."""
    n = members.shape[-1]
    if m.spec.protocol.proposer == "random":
        chances = np.cumsum(m.recognition * members, axis=-1)
        u = m.draws.uniform(PROPOSER_STREAM, t, rows=rows)
        return np.argmax(chances > u[:, None] * chances[:, -1:], axis=-1)
    turn = (m.first_proposer + t - 1 + np.arange(n)) % n
    return turn[np.argmax(members[:, turn], axis=-1)]


def _one_hot(who: np.ndarray, like: np.ndarray) -> np.ndarray:
    return np.arange(like.shape[-1]) == who[:, None]


def note_incompatible(m, stuck: np.ndarray, contested: np.ndarray) -> None:
    """Open issues held off the table by red lines that cannot meet: the reason agreement waits."""
    m.open_blocker = np.where(stuck, -1, m.open_blocker)
    m.open_reason = np.where(stuck, INCOMPATIBLE, m.open_reason)
    m.open_ref = np.where(stuck, np.argmax(contested, axis=-1), m.open_ref)


class Solved:
    """The N-party problem each run last solved, by kind of proposal, and its answers: a run whose problem is the
    same, number for number, as the one it last solved gets the same answers without solving again (with more than two
    principals the exact solve is the costliest step of a round, and under the Nash rule the problem often stays
    the same for many rounds)."""

    def __init__(self, runs: int):
        self.runs, self.problems = runs, {}

    def __call__(self, kind: str, rows: np.ndarray, problem: tuple, solve) -> tuple:
        """The answers (a tuple of arrays (m, ...)) for the runs ``rows`` of ``problem`` (arrays (m, ...)), where
        ``solve(index)`` answers the runs ``index`` (into ``rows``) afresh."""
        shapes = tuple(np.shape(x)[1:] for x in problem)
        width = [int(np.prod(shape)) for shape in shapes]
        flat = np.concatenate(
            [np.asarray(x, dtype=float).reshape(len(rows), w) for x, w in zip(problem, width, strict=True)], axis=1
        )
        known = self.problems.get(kind)
        if known is None or known[2] != shapes:
            answers = solve(np.arange(len(rows)))
            stored = tuple(np.zeros((self.runs, *a.shape[1:]), dtype=a.dtype) for a in answers)
            known = self.problems[kind] = (np.full((self.runs, flat.shape[1]), np.nan), stored, shapes)
        else:
            fresh = np.flatnonzero(~(known[0][rows] == flat).all(axis=1))
            answers = tuple(a[rows] for a in known[1])
            if fresh.size:
                for answer, new in zip(answers, solve(fresh), strict=True):
                    answer[fresh] = new
        known[0][rows] = flat
        for stored, answer in zip(known[1], answers, strict=True):
            stored[rows] = answer
        return answers
