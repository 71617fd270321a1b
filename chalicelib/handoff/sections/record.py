"""What people wrote: the mission, the pinned context, the session record and the open items.

The session record's items, pins and open items are required: a budget never drops them.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..data import HandoffData, as_int, record_list, record_text
from ..ranks import RANKS
from ..render import Item, Section
from ..textutil import norm_key, one_line, prefix_words

MAX_URLS = 12
MAX_INFERRED_DECISIONS = 8
MAX_EARLIER_DECISIONS = 10


def render_mission(hd: HandoffData) -> Section:
    """The project's and the session's goals, as recorded (never dropped)."""
    s = Section("mission", "Mission and goal")
    prev_m = hd.previous.get("mission") if isinstance(hd.previous.get("mission"), Mapping) else {}
    goal = record_text(hd.project, "goal") or record_text(prev_m, "goal")
    desc = record_text(hd.project, "description") or record_text(prev_m, "description")
    sgoal = record_text(hd.session, "goal")
    if goal:
        s.items.append(Item(f"- **Project goal:** {goal}", required=True))
    if desc:
        s.items.append(Item(f"- **Project:** {desc}", required=True))
    if sgoal:
        s.items.append(Item(f"- **Session {hd.n} goal:** {sgoal}", required=True))
    return s


def render_pins(hd: HandoffData) -> Section:
    """The pinned context, verbatim (never dropped)."""
    s = Section("pins", "Pinned context", intro="_Carried verbatim into every handoff._\n", spaced=True)
    for p in hd.pins:
        s.items.append(Item(p, required=True, keep=(("pin", p),), data_key="pins", payload=p))
    return s


def render_record(hd: HandoffData) -> Section:
    """What the session record states, the user's decisions, earlier decisions and the user's URLs."""
    s = Section("record", f"What session {hd.n} recorded")
    for a in record_list(hd.session, "accomplishments"):
        t = one_line(a)
        s.items.append(Item(f"- {t}", required=True, sub="Accomplishments", keep=(("accomplishment", prefix_words(t, 120)),),
                            data_key="accomplishments", payload={"text": t, "source": "session"}))
    for d in record_list(hd.session, "decisions"):
        t = one_line(d)
        s.items.append(Item(f"- {t}", required=True, sub="Decisions", keep=(("decision", prefix_words(t, 120)),),
                            data_key="decisions", payload={"text": t, "source": "session", "session": hd.n}))
    for link in record_list(hd.session, "links"):
        t = one_line(link)
        s.items.append(Item(f"- {t}", required=True, sub="Links", keep=(("url", prefix_words(t, 120)),),
                            data_key="links", payload=t))
    user_notes = [d for d in hd.facts.decisions if d.who == "user"]
    for d in user_notes[-MAX_INFERRED_DECISIONS:]:
        t = d.text if d.text.startswith(("User rejected", "User declined", "User interrupted")) else (
            f"User said: “{d.text}”")
        s.items.append(Item(f"- {t}",
                            rank=RANKS["decisions.user"] + hd.recency(d.index),
                            sub="User corrections and choices",
                            group="user decisions", keep=(("decision", prefix_words(d.text, 80)),),
                            data_key="decisions", payload={"text": d.text, "source": "user", "session": hd.n}))
    earlier = hd.previous.get("decisions")
    if isinstance(earlier, list):
        prev = [d for d in earlier if isinstance(d, Mapping) and d.get("source") in ("session", "earlier")
                and isinstance(d.get("text"), str)]
        for k, d in enumerate(prev[-MAX_EARLIER_DECISIONS:]):
            sess = as_int(d.get("session"))
            tag = f" _(session {sess})_" if sess is not None else ""
            s.items.append(Item(f"- {one_line(d['text'])}{tag}",
                                rank=RANKS["decisions.earlier"] + k * 0.01, sub="Earlier decisions",
                                group="earlier decisions", data_key="decisions",
                                payload={"text": one_line(d["text"]), "source": "earlier", "session": sess}))
    urls = sorted((u for u in hd.facts.urls.values() if u.who == "user"), key=lambda u: u.index)
    for u in urls[:MAX_URLS]:
        s.items.append(Item(f"- {u.text}",
                            rank=RANKS["urls.user"],
                            sub="URLs the user gave", group="URLs", keep=(("url", u.text),),
                            data_key="urls", payload={"url": u.text, "from": u.who}))
    return s


def render_open_items(hd: HandoffData) -> Section:
    """Items open until a session marks them done, then the recently completed todos."""
    s = Section("open_items", "Open items", intro="_Open until a session marks them done._\n")
    own = {norm_key(x) for x in record_list(hd.session, "next_steps")}
    steps = {norm_key(a) for a in hd.state.next_actions}
    for it in hd.open_items:
        if it["kind"] == "blocker" or it["source"] == "handoff" or (
                it.get("origin") == "handoff" and norm_key(it["text"]) in steps):  # already the Next action
            continue
        since = f" _(open since session {it['since_session']})_" if it["since_session"] < hd.n else ""
        label = {"todo": "Todo: ", "next_step": ""}.get(it["kind"], "")
        sub = "" if norm_key(it["text"]) in own else (
            "Still open from earlier sessions" if it["source"] == "carried" else
            "Unfinished todos" if it["kind"] == "todo" else "")
        s.items.append(Item(f"- [ ] {label}{it['text']}{since}", required=True, sub=sub,
                            keep=(("next_step" if it["kind"] != "todo" else "todo", prefix_words(it["text"], 120)),),
                            data_key="next_steps", payload=it))
    for t in [t for t in hd.facts.todos.values() if t.status == "completed"][-6:]:
        s.items.append(Item(f"- [x] {t.content}",
                            rank=RANKS["todos.completed"] + 3 * hd.recency(t.index),
                            sub="Completed todos",
                            group="completed todos", keep=(("todo", prefix_words(t.content, 120)),),
                            data_key="todos", payload={"content": t.content, "status": t.status}))
    return s
