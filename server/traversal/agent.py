"""`agent`: a local chat model chooses each step. It sees a short screen (question, notes, candidates
as handles + label + one line, the references they cite) and answers under a JSON schema whose enums
list only the handles on that screen; every answer is validated again before it acts."""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.corpus import Corpus
from server.llm.prompts import load_prompt
from server.rerank.base import Reranker
from server.retrieval import FirstStage
from server.traversal.budget import Budget, OnStep
from server.llm.chat import ChatModel, Completion
from server.traversal.pool import Pool, Ranking, seed_pool
from server.traversal.result import DeepSearchResult, TraceStep
from server.traversal.walk import WalkOptions, expand_step

__all__ = ["AgentOptions", "Screen", "build_screen", "action_schema", "validate_action", "agent", "prompt_version"]

ACTIONS = ("follow", "read", "search", "keep", "stop")
READ_KINDS = ("next", "prev", "parent", "child")
QUERY_MAX = 100


@dataclass(frozen=True)
class AgentOptions:
    seeds: int = 20
    warm_steps: int = 4  # walk steps (no LLM, step 0 in the trace) before the model's first turn
    warm_expand: int = 3  # passages each warm step expands
    screen_passages: int = 5
    screen_references: int = 6
    line_chars: int = 70
    search_k: int = 10
    # kept passages rank a little higher (own scores are reciprocal ranks, <= 0.2)
    ranking: Ranking = Ranking(keep_bonus=0.02)
    max_tokens: int = 96
    prompts: Path | None = None  # a prompts folder (Settings.prompts); None: the packaged prompts


def prompt_version(folder: Path | None = None) -> str:
    return (f"agent_system@{load_prompt('agent_system', folder).version},"
            f"agent_screen@{load_prompt('agent_screen', folder).version}")


def _line(text: str, n: int) -> str:
    one = re.sub(r"\s+", " ", text).strip()
    return one if len(one) <= n else one[: n - 1].rstrip() + "…"


@dataclass
class Screen:
    text: str
    passages: dict[str, str]  # handle -> passage id
    references: dict[str, tuple[str, str, list[str]]]  # handle -> (citing passage id, citing text, target ids)
    schema: dict[str, Any] = field(default_factory=dict)


def build_screen(pool: Pool, question: str, notes: list[str], step: int, max_steps: int, o: AgentOptions) -> Screen:
    corpus = pool.corpus
    shown = [p for p in pool.ranked(o.ranking) if p not in pool.kept][: o.screen_passages]
    passages = {f"P{i}": pid for i, pid in enumerate(shown, 1)}
    p_lines = []
    for h, pid in passages.items():
        p = corpus.passage(pid)
        label = " ".join(x for x in (p.doc_title[:30], p.label or "") if x)
        done = " (read)" if pid in pool.expanded else ""
        p_lines.append(f"{h} [{label}]{done}: {_line(p.text, o.line_chars)}")
    references: dict[str, tuple[str, str, list[str]]] = {}
    r_lines = []
    for h, pid in passages.items():
        for ref in corpus.references_of(pid):
            targets = [t for t in ref.targets if t in corpus.by_id]
            if not targets or all(t in pool.rerank for t in targets):
                continue  # unresolved, or already among the candidates
            if len(references) >= o.screen_references:
                break
            rh = f"R{len(references) + 1}"
            references[rh] = (pid, ref.text, targets)
            verb = "names" if ref.kind == "mention" else "cites"
            r_lines.append(f"{rh}: {h} {verb} \"{_line(ref.text, 60)}\"")
    kept = [f"kept: [{corpus.passage(p).label or p}] {_line(corpus.passage(p).text, 50)}" for p in pool.kept]
    text = load_prompt("agent_screen", o.prompts).text.format(
        question=question, notes="\n".join(kept + notes[-5:]) or "(none yet)",
        passages="\n".join(p_lines) or "(none)", references="\n".join(r_lines) or "(none)",
        step=step, max_steps=max_steps,
    )
    return Screen(text=text, passages=passages, references=references, schema=action_schema(passages, references))


def action_schema(passages: dict[str, str], references: dict[str, Any]) -> dict[str, Any]:
    """One alternative per action; handle enums list only what is on the screen."""
    def obj(action: str, **props: Any) -> dict[str, Any]:
        return {"type": "object", "properties": {"action": {"const": action}, **props}, "required": ["action", *props]}

    alts = []
    if references:
        alts.append(obj("follow", reference={"enum": list(references)}))
    if passages:
        alts.append(obj("read", passage={"enum": list(passages)}))
    # No maxLength: llama.cpp expands it into QUERY_MAX nested optional rules, which measured several
    # times slower to sample; max_tokens bounds the query and validate_action checks its length.
    alts.append(obj("search", query={"type": "string", "minLength": 2}))
    if passages:
        alts.append(obj("keep", passage={"enum": list(passages)}))
    alts.append(obj("stop"))
    return {"anyOf": alts}


def validate_action(raw: str, screen: Screen, pool: Pool) -> tuple[dict[str, Any] | None, str | None]:
    """The parsed action, or None and why it is refused. The schema should make refusals rare; this
    check is what actually guards the walk."""
    try:
        action = json.loads(raw)
    except json.JSONDecodeError as exc:
        return None, f"not JSON: {exc.msg}"
    if not isinstance(action, dict) or action.get("action") not in ACTIONS:
        return None, f"unknown action {str(action.get('action') if isinstance(action, dict) else action)[:40]!r}"
    kind = action["action"]
    expected = {"follow": {"reference"}, "read": {"passage"}, "keep": {"passage"}, "search": {"query"}, "stop": set()}[kind]
    extra = set(action) - {"action"} - expected
    if extra or not expected <= set(action):
        return None, f"{kind} takes {sorted(expected) or 'no arguments'}, got {sorted(set(action) - {'action'})}"
    if kind == "follow" and action["reference"] not in screen.references:
        return None, f"reference {str(action['reference'])[:20]!r} is not on the screen"
    if kind in ("read", "keep") and action["passage"] not in screen.passages:
        return None, f"passage {str(action['passage'])[:20]!r} is not on the screen"
    if kind == "keep" and screen.passages[action["passage"]] in pool.kept:
        return None, "already kept"
    if kind == "search":
        q = action["query"]
        if not isinstance(q, str) or not q.strip() or len(q) > QUERY_MAX:
            return None, f"query must be 1-{QUERY_MAX} characters"
        if not pool.corpus.stored.bm25.terms(q):
            return None, "query has no searchable words"
    return action, None


def _execute(action: dict[str, Any], screen: Screen, pool: Pool, o: AgentOptions) -> tuple[list[str], dict[str, Any], str]:
    kind = action["action"]
    if kind == "follow":
        src, text, targets = screen.references[action["reference"]]
        added = pool.add(((t, "reference") for t in targets[:8]), src=src)
        return added, {"reference": action["reference"], "from": src, "text": text}, f"followed \"{_line(text, 40)}\""
    if kind == "read":
        pid = screen.passages[action["passage"]]
        added = pool.expand([pid], READ_KINDS)
        return added, {"passage": action["passage"], "id": pid}, f"read around [{pool.corpus.passage(pid).label or pid}]"
    if kind == "keep":
        pid = screen.passages[action["passage"]]
        pool.kept.append(pid)
        return [], {"passage": action["passage"], "id": pid}, f"kept [{pool.corpus.passage(pid).label or pid}]"
    if kind == "search":
        added = pool.add_bm25(action["query"], o.search_k, via="search")
        return added, {"query": action["query"]}, f"searched \"{_line(action['query'], 40)}\""
    return [], {}, "stopped"


def step_estimate_ms(history: list[tuple[float, Completion]]) -> float:
    """What the next model step will likely cost, from the steps so far ((step ms, completion) each).

    From measured per-token speeds where the model reports them: the prompt tokens the next screen will
    read (those of the latest step after the first, whose read includes the system prompt) at the latest
    read speed, the most tokens any answer took at the latest generation speed, plus the slowest
    non-model part of a step. The latest speeds follow a machine whose load changes. Otherwise the
    slowest step so far (leaving out the first, for the same reason)."""
    if not history:
        return 0.0
    later = history[1:] or history
    read_rate = next((c.ms_per_read_token() for _, c in reversed(history) if c.ms_per_read_token()), None)
    gen_rate = next((c.ms_per_generated_token() for _, c in reversed(history) if c.ms_per_generated_token()), None)
    if read_rate is None or gen_rate is None:
        return max(ms for ms, _ in later)
    read = later[-1][1].read_tokens
    answer = max(c.completion_tokens for _, c in history) or 1
    other = max(max(0.0, ms - c.ms) for ms, c in history)
    return read * read_rate + answer * gen_rate + other


def agent(corpus: Corpus, reranker: Reranker, question: str, budget: Budget, model: ChatModel, k: int = 10,
          options: AgentOptions = AgentOptions(), on_step: OnStep | None = None,
          first_stage: FirstStage | None = None) -> DeepSearchResult:
    o = options
    pool = Pool(corpus, reranker, question, first_stage)
    system = load_prompt("agent_system", o.prompts).text
    trace: list[TraceStep] = [seed_pool(pool, question, o.seeds, budget, on_step)]
    if o.warm_expand:
        # Start where the walk ends: the model then spends its turns on what the walk cannot do (new
        # queries, choosing which citation matters), not on the obvious hops (bench/TRAVERSAL.md).
        warm = WalkOptions(seeds=o.seeds, per_step=o.warm_expand, ranking=o.ranking)
        for _ in range(o.warm_steps):
            if not budget.fits(max(t.ms for t in trace)):  # leave the time to the model
                break
            step = expand_step(pool, warm, 0)
            if step is None:
                break
            trace.append(step)
            if budget.exhausted():
                break
    notes: list[str] = []
    history: list[tuple[float, Completion]] = []
    stopped = budget.exhausted()
    while stopped is None:
        # Do not start a step that would likely end past the time budget: a step cut at the deadline
        # yields no action, so it is pure waste (step_estimate_ms).
        if history and budget.elapsed_ms() + step_estimate_ms(history) > budget.max_seconds * 1000:
            stopped = "max_seconds"
            break
        t = time.perf_counter()
        budget.steps += 1
        screen = build_screen(pool, question, notes, budget.steps, budget.max_steps, o)
        messages = [{"role": "system", "content": system}, {"role": "user", "content": screen.text}]
        deadline = budget.started + budget.max_seconds
        done: Completion = model.complete(messages, screen.schema, max_tokens=o.max_tokens, deadline=deadline)
        action, error = (None, "cut at the time budget") if done.cut else validate_action(done.text, screen, pool)
        step = TraceStep(step=budget.steps, action="invalid", ms=0.0, llm_ms=round(done.ms, 2),
                         prompt_tokens=done.prompt_tokens, completion_tokens=done.completion_tokens, raw=done.text[:300])
        if action is None:
            step.valid, step.error = False, error
            notes.append(f"step {budget.steps}: refused ({error})")
        else:
            step.action = action["action"]
            step.added, step.args, note = _execute(action, screen, pool, o)
            notes.append(f"step {budget.steps}: {note}, +{len(step.added)} passages")
        step.ms = round((time.perf_counter() - t) * 1000, 2)
        history.append((step.ms, done))
        trace.append(step)
        if on_step:
            on_step(budget.steps, budget.max_steps, notes[-1])
        if step.action == "stop":
            stopped = "stop"
            break
        stopped = budget.exhausted()
    return DeepSearchResult(
        question=question, strategy="agent", model=model.name, reranker=getattr(reranker, "name", type(reranker).__name__),
        prompt_version=prompt_version(o.prompts), evidence=pool.evidence(k, o.ranking), trace=trace,
        steps=budget.steps, stopped=stopped or "max_steps", candidates=len(pool.rerank), ms=round(budget.elapsed_ms(), 2),
        note=budget.note(stopped or "max_steps"),
    )
