"""generate_llm_handoff end to end against the fake OpenAI server: answer, repair, fallback."""

from __future__ import annotations

import logging
import re
import sys
import types
from collections.abc import Callable

import pytest

from chalicelib.handoff.llm_writer import LLMHandoffResult, generate_llm_handoff
from chalicelib.handoff.llm_writer._sections import (
    FACTS_SECTION,
    clean_answer,
    contains_fact,
    section_titles,
    split_sections,
    trim_markdown,
)
from chalicelib.handoff.llm_writer._transcript import render_transcript, split_chunks
from chalicelib.llm import ChatClient, LLMSettings
from chalicelib.transcripts.model import Message, ToolCall, ToolResult
from tests.support.clock import FakeClock
from tests.support.fake_openai import (
    FakeOpenAIServer,
    RecordedRequest,
    delay,
    empty_choices,
    malformed,
    rate_limited,
    reply,
    server_error,
    unauthorized,
)
from tests.support.llm_samples import API_KEY, FACTS, GOOD_ANSWER, RULES_MD, FakeRulesDoc

MakeClient = Callable[..., ChatClient]
PROJECT = {"project_id": "p1", "name": "Demo project", "goal": "Ship the orchestrator MVP"}
SESSION = {"number": 3, "title": "Fix login", "status": "completed"}


def short_transcript() -> list[Message]:
    return [
        Message("user", "The login returns 401 after an hour. Fix it. TASK-123 comes next."),
        Message("assistant", "Looking at the token code.",
                tool_calls=[ToolCall("Bash", {"command": "pytest tests/test_token.py -q"}, id="t1")]),
        Message("tool", tool_results=[ToolResult("E   AssertionError: expected 200, got 401\n1 failed",
                                                 tool_call_id="t1", is_error=True)]),
        Message("assistant", "Refresh before expiry.",
                tool_calls=[ToolCall("Edit", {"file_path": "src/auth/token.py", "old_string": "a", "new_string": "b"})]),
        Message("assistant", "All green now."),
    ]


def run(client: ChatClient, rules_doc: FakeRulesDoc, messages: list[Message] | None = None,
        **kw: object) -> LLMHandoffResult:
    return generate_llm_handoff(rules_doc=rules_doc, messages=short_transcript() if messages is None else messages,
                                client=client, project=PROJECT, session=SESSION, **kw)  # type: ignore[arg-type]


def section_of(markdown: str, text: str) -> str:
    """The heading of the level-2 section whose body contains `text`."""
    for sec in split_sections(markdown)[1]:
        if text in "\n".join(sec.body):
            return sec.heading
    return ""


# ---------------------------------------------------------------------------------------------
# the good path


def test_good_answer_is_used_as_is(fake_openai: FakeOpenAIServer, make_client: MakeClient,
                                   rules_doc: FakeRulesDoc) -> None:
    fake_openai.script(reply("Sure! Here is the handoff:\n\n" + GOOD_ANSWER))
    result = run(make_client(), rules_doc)
    assert result.method == "llm" and result.reason is None and result.restored == []
    assert result.llm_calls == 1 and result.model == "test-model"
    assert result.answer_chars > len(GOOD_ANSWER) and result.prompt_chars > 0 and result.elapsed_s >= 0
    md = result.markdown
    assert "Here is the handoff" not in md  # preamble dropped
    assert md.startswith("# Handoff: Demo project, session 3 -> 4\n")  # header from the rules doc ...
    assert "Generated: llm" in md and "Generated: rules" not in md  # ... saying how it was made
    assert "the token refresh in src/auth/token.py was the cause" in md  # the model's prose
    assert "## Metrics\n- Credits: 12 / 50" in md  # verbatim section the model left out
    assert md.index("## Metrics") < md.index("## Checklist")  # ... put back in the rules order
    for fact in FACTS:
        assert fact["text"] in md

    [req] = fake_openai.chat_requests
    system, user = req.messages
    assert system["role"] == "system" and "## Next steps" in system["content"]  # rules headings asked for
    assert "DRAFT HANDOFF" in user["content"] and "## Files changed" in user["content"]
    assert "- [task_id] TASK-123" in user["content"]  # must-keep facts listed
    assert "-> Bash command=pytest tests/test_token.py -q" in user["content"]  # tool call on one line
    assert "<- ERROR: E   AssertionError: expected 200, got 401" in user["content"]  # errors kept
    assert "PROJECT: Demo project" in user["content"] and "starts session 4" in user["content"]


def test_dropped_facts_are_put_back(fake_openai: FakeOpenAIServer, make_client: MakeClient,
                                    rules_doc: FakeRulesDoc) -> None:
    lossy = (GOOD_ANSWER
             .replace("2. TASK-123: add the audit log.\n", "")
             .replace("- AssertionError: expected 200, got 401, fixed by refreshing earlier.\n", "")
             .replace("## Errors and blockers\n", ""))
    assert "TASK-123" not in lossy and "AssertionError" not in lossy
    fake_openai.script(reply(lossy))
    result = run(make_client(), rules_doc)
    assert result.method == "llm+rules"
    assert result.restored == [{"kind": "error", "text": "AssertionError: expected 200, got 401"},
                               {"kind": "task_id", "text": "TASK-123"}]
    assert "restored 2" in (result.reason or "")
    md = result.markdown
    # under its own section when the answer has it, with the rules line's context ...
    assert section_of(md, "TASK-123: add the audit log") == "## Next steps"
    # ... or in its section brought back, in the rules order, when the model dropped it whole
    assert section_of(md, "AssertionError: expected 200, got 401 (fixed: refresh earlier)") == "## Errors and blockers"
    assert md.index("## Files changed") < md.index("## Errors and blockers") < md.index("## Next steps")
    assert FACTS_SECTION not in md
    assert "Generated: llm+rules" in md
    for fact in FACTS:
        assert fact["text"] in md


def test_a_near_miss_does_not_count_as_kept(fake_openai: FakeOpenAIServer, make_client: MakeClient,
                                            rules_doc: FakeRulesDoc) -> None:
    fake_openai.script(reply(GOOD_ANSWER.replace("TASK-123", "TASK-1234")))
    result = run(make_client(), rules_doc)
    assert result.method == "llm+rules"
    assert [f["text"] for f in result.restored] == ["TASK-123"]
    assert contains_fact(result.markdown, "TASK-123") and "TASK-123: add the audit log" in result.markdown


def test_contains_fact_matches_whole_tokens_only() -> None:
    assert contains_fact("edit `app.py`.", "app.py")
    assert contains_fact("run  pytest\n  -q now", "pytest -q")
    assert not contains_fact("edit chalicelib/app.py", "app.py")
    assert not contains_fact("edit app.pyc", "app.py")
    assert not contains_fact("TASK-1234", "TASK-123")
    assert contains_fact("Error: boom! then", "Error: boom!")


def test_a_fact_in_no_rules_section_goes_to_the_facts_section(fake_openai: FakeOpenAIServer,
                                                              make_client: MakeClient) -> None:
    doc = FakeRulesDoc(markdown=RULES_MD, must_keep=[*FACTS, {"kind": "url", "text": "https://example.test/x"}])
    fake_openai.script(reply(GOOD_ANSWER))
    result = run(make_client(), doc)
    assert result.method == "llm+rules" and [f["kind"] for f in result.restored] == ["url"]
    assert section_of(result.markdown, "https://example.test/x") == f"## {FACTS_SECTION}"


def test_pinned_context_is_always_verbatim(fake_openai: FakeOpenAIServer, make_client: MakeClient,
                                           rules_doc: FakeRulesDoc) -> None:
    fake_openai.script(reply(GOOD_ANSWER.replace("- Never push to main without review", "- Review before pushing")))
    result = run(make_client(), rules_doc)
    assert "## Pinned context\n- Never push to main without review\n" in result.markdown
    assert "Review before pushing" not in result.markdown
    assert result.method == "llm+rules" and result.restored == [{"kind": "pin", "text": "Never push to main without review"}]


def test_fenced_answer_is_unwrapped(fake_openai: FakeOpenAIServer, make_client: MakeClient,
                                    rules_doc: FakeRulesDoc) -> None:
    fake_openai.script(reply("```markdown\n" + GOOD_ANSWER + "```\n"))
    result = run(make_client(), rules_doc)
    assert result.method == "llm" and "```" not in result.markdown


# ---------------------------------------------------------------------------------------------
# answers that fail the check


@pytest.mark.parametrize(("answer", "why"), [
    ("I could not write a handoff for this session, sorry.", "no section headings"),
    (GOOD_ANSWER.replace("## Next steps", "Next steps:"), "missing section(s): next steps"),
    (GOOD_ANSWER + "\n## Notes\n" + "x" * 20_000, "too long"),
])
def test_answer_failing_the_check_falls_back_to_rules(answer: str, why: str, fake_openai: FakeOpenAIServer,
                                                      make_client: MakeClient, rules_doc: FakeRulesDoc) -> None:
    fake_openai.script(reply(answer))
    result = run(make_client(), rules_doc)
    assert result.method == "rules" and result.markdown == RULES_MD
    assert result.reason is not None and "failed the check" in result.reason and why in result.reason
    assert result.llm_calls == 1 and result.answer_chars == len(answer)


# ---------------------------------------------------------------------------------------------
# answers that never arrive


@pytest.mark.parametrize(("behaviour", "why"), [
    (rate_limited(retry_after="1"), "LLM rate limited"),
    (server_error(500), "LLM unavailable (HTTP 500)"),
    (malformed(), "not valid JSON"),
    (empty_choices(), "no choices"),
    (unauthorized(), "refused the API key"),
])
def test_llm_faults_fall_back_to_rules(behaviour, why: str, fake_openai: FakeOpenAIServer,  # noqa: ANN001
                                       make_client: MakeClient, rules_doc: FakeRulesDoc) -> None:
    fake_openai.default = behaviour
    result = run(make_client(max_retries=2), rules_doc)
    assert result.method == "rules" and result.markdown == RULES_MD and result.restored == []
    assert why in (result.reason or "")
    retried = behaviour.name in ("rate_limited", "status_500")
    assert len(fake_openai.requests) == (3 if retried else 1)


def test_timeouts_fall_back_to_rules_within_the_deadline(fake_openai: FakeOpenAIServer, make_client: MakeClient,
                                                         fake_clock: FakeClock, rules_doc: FakeRulesDoc) -> None:
    fake_openai.default = delay(2.0, then=reply(GOOD_ANSWER))
    result = run(make_client(timeout_s=0.3, deadline_s=2.0), rules_doc)
    assert result.method == "rules" and result.markdown == RULES_MD
    assert "timed out" in (result.reason or "")
    assert len(fake_openai.requests) >= 2  # retried before giving up
    assert result.elapsed_s <= 2.0 + 0.35  # fake clock: real request time + injected backoff
    assert fake_clock.sleeps  # backoff was injected, not slept (wall time: make bench)


def test_not_configured_falls_back_without_a_request(fake_openai: FakeOpenAIServer, rules_doc: FakeRulesDoc) -> None:
    client = ChatClient(LLMSettings(base_url=fake_openai.base_url, api_key=None))
    result = run(client, rules_doc)
    assert result.method == "rules" and "not configured" in (result.reason or "")
    assert result.llm_calls == 0 and fake_openai.requests == []


def test_internal_error_still_gives_a_handoff(make_client: MakeClient, rules_doc: FakeRulesDoc,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client()

    def broken(*a: object, **k: object) -> str:
        raise KeyError("bug")

    monkeypatch.setattr(client, "complete", broken)
    result = run(client, rules_doc)
    assert result.method == "rules" and result.reason == "internal error in the LLM path (KeyError)"


def test_a_bug_reading_the_must_keep_facts_falls_back_to_the_rules_document(
        make_client: MakeClient, rules_doc: FakeRulesDoc, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.handoff.llm_writer import _run

    def broken(*a: object, **k: object) -> list[dict[str, str]]:
        raise IndexError("bug")

    monkeypatch.setattr(_run, "must_keep_facts", broken)
    result = run(make_client(), rules_doc)
    assert result.method == "rules" and result.markdown == rules_doc.markdown
    assert result.reason == "internal error in the LLM path (IndexError)" and result.llm_calls == 0


def test_api_key_never_leaks_from_a_handoff_run(fake_openai: FakeOpenAIServer, make_client: MakeClient,
                                                rules_doc: FakeRulesDoc, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake_openai.script(server_error(502, echo_auth=True), server_error(500, echo_auth=True), unauthorized())
    result = run(make_client(), rules_doc)
    assert result.method == "rules" and "[REDACTED]" in (result.reason or "")
    assert API_KEY in fake_openai.requests[-1].headers["Authorization"]
    dumped = (caplog.text + repr([getattr(r, "fields", None) for r in caplog.records])
              + repr(result.to_dict()))
    assert API_KEY not in dumped
    assert any(r.getMessage() == "llm.handoff.done" and r.fields["method"] == "rules" for r in caplog.records)


# ---------------------------------------------------------------------------------------------
# redaction as defence in depth


def test_prompt_goes_through_the_redactor(fake_openai: FakeOpenAIServer, make_client: MakeClient,
                                          rules_doc: FakeRulesDoc, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("chalicelib.transcripts.redact")
    fake.redact = lambda text: (text.replace("AKIAABCDEFGHIJKLMNOP", "[REDACTED:aws]"),  # type: ignore[attr-defined]
                                {"aws": text.count("AKIAABCDEFGHIJKLMNOP")})
    monkeypatch.setitem(sys.modules, "chalicelib.transcripts.redact", fake)
    fake_openai.script(reply(GOOD_ANSWER))
    messages = [*short_transcript(), Message("user", "my key is AKIAABCDEFGHIJKLMNOP oops")]
    result = run(make_client(), rules_doc, messages)
    assert result.method == "llm"
    sent = fake_openai.chat_requests[0].raw.decode()
    assert "AKIAABCDEFGHIJKLMNOP" not in sent and "[REDACTED:aws]" in sent


def test_broken_redactor_module_means_nothing_is_sent(fake_openai: FakeOpenAIServer, make_client: MakeClient,
                                                      rules_doc: FakeRulesDoc,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    broken = types.ModuleType("chalicelib.transcripts.redact")  # no `redact` in it: ImportError
    monkeypatch.setitem(sys.modules, "chalicelib.transcripts.redact", broken)
    result = run(make_client(), rules_doc)
    assert result.method == "rules" and "redactor failed to load" in (result.reason or "")
    assert fake_openai.requests == []


def test_missing_redactor_module_means_nothing_is_sent(fake_openai: FakeOpenAIServer, make_client: MakeClient,
                                                       rules_doc: FakeRulesDoc,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # The redactor ships with every build: its absence is a fault, not a reason to send unchecked text.
    monkeypatch.setitem(sys.modules, "chalicelib.transcripts.redact", None)  # import raises ModuleNotFoundError
    result = run(make_client(), rules_doc)
    assert result.method == "rules" and "redactor failed to load (ModuleNotFoundError)" in (result.reason or "")
    assert fake_openai.requests == []


def test_redactor_failure_means_nothing_is_sent(fake_openai: FakeOpenAIServer, make_client: MakeClient,
                                                rules_doc: FakeRulesDoc, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("chalicelib.transcripts.redact")

    def boom(text: str) -> tuple[str, dict[str, int]]:
        raise ValueError("bad pattern")

    fake.redact = boom  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "chalicelib.transcripts.redact", fake)
    result = run(make_client(), rules_doc)
    assert result.method == "rules" and "redaction failed" in (result.reason or "")
    assert fake_openai.requests == []


# ---------------------------------------------------------------------------------------------
# map-reduce


def long_transcript(turns: int = 60) -> list[Message]:
    msgs: list[Message] = [Message("user", "Refactor the storage layer; keep TASK-123 in mind.")]
    for i in range(turns):
        msgs.append(Message("assistant", f"Step {i}: editing module_{i}.py. " + "reasoning " * 60,
                            tool_calls=[ToolCall("Edit", {"file_path": f"src/module_{i}.py",
                                                          "new_string": "code " * 200})]))
        msgs.append(Message("tool", tool_results=[ToolResult(f"edited src/module_{i}.py\n" + "ok line\n" * 80)]))
    msgs.append(Message("user", "LAST REQUEST: run the integration tests next."))
    return msgs


def scripted_model(req: RecordedRequest) -> str:
    """Map calls answer with a note naming their part; the final call answers the handoff."""
    user = req.messages[-1]["content"]
    part = re.search(r"PART (\d+) OF (\d+)", user)
    if part:
        return f"- Done: NOTE-{part.group(1)}-OF-{part.group(2)}"
    if user.startswith("PROJECT") and "NOTES FROM CONSECUTIVE PARTS" in user:
        return "- merged: " + " ".join(re.findall(r"NOTE-\d+-OF-\d+", user))
    return GOOD_ANSWER


def test_long_transcript_is_map_reduced_within_the_window(fake_openai: FakeOpenAIServer, make_client: MakeClient,
                                                          rules_doc: FakeRulesDoc) -> None:
    fake_openai.default = reply(scripted_model)
    client = make_client(context_tokens=4096, max_output_tokens=1024, map_output_tokens=256, max_calls=12)
    messages = long_transcript()
    assert len(render_transcript(messages, level=1)) > client.settings.input_chars(1024)  # too big for one call
    result = run(client, rules_doc, messages)

    reqs = fake_openai.chat_requests
    maps = [r for r in reqs if "PART " in r.messages[-1]["content"]]
    n = len(maps)
    assert n >= 3 and result.llm_calls == len(reqs) == n + 1  # map per chunk + one reduce
    assert all(f"PART {i} OF {n}" in r.messages[-1]["content"] for i, r in enumerate(maps, 1))
    for r in reqs:  # every request fits the model's window next to its reply
        assert r.prompt_chars <= client.settings.input_chars(r.max_tokens)
        assert client.settings.tokens_for_chars(r.prompt_chars) + r.max_tokens <= 4096
    reduce = reqs[-1].messages[-1]["content"]
    assert "NOTES FROM THE SESSION TRANSCRIPT" in reduce and "- [task_id] TASK-123" in reduce
    assert all(f"NOTE-{i}-OF-{n}" in reduce for i in range(1, n + 1))
    assert "LAST REQUEST: run the integration tests next." in "".join(r.raw.decode() for r in maps)
    assert result.method == "llm" and result.prompt_chars == sum(r.prompt_chars for r in reqs)


def test_notes_that_overflow_are_merged_and_calls_stay_bounded(fake_openai: FakeOpenAIServer,
                                                               make_client: MakeClient,
                                                               rules_doc: FakeRulesDoc) -> None:
    fat_note = "- Done: " + "detail " * 120  # each note ~850 chars: many of them cannot fit the reduce

    def model(req: RecordedRequest) -> str:
        user = req.messages[-1]["content"]
        if re.search(r"PART \d+ OF \d+", user):
            return fat_note
        if "NOTES FROM CONSECUTIVE PARTS" in user:
            return "- merged notes"
        return GOOD_ANSWER

    fake_openai.default = reply(model)
    client = make_client(context_tokens=3072, max_output_tokens=768, map_output_tokens=256, max_calls=10)
    result = run(client, rules_doc, long_transcript(120))
    reqs = fake_openai.chat_requests
    assert len(reqs) == result.llm_calls <= 10
    assert any("NOTES FROM CONSECUTIVE PARTS" in r.messages[-1]["content"] for r in reqs)  # merge round ran
    for r in reqs:
        assert r.prompt_chars <= client.settings.input_chars(r.max_tokens)
    assert result.method == "llm"


def test_a_failed_map_call_falls_back_to_rules(fake_openai: FakeOpenAIServer, make_client: MakeClient,
                                               rules_doc: FakeRulesDoc) -> None:
    fake_openai.script(reply("- notes"), reply("- notes"), server_error(400))
    fake_openai.default = reply(scripted_model)
    client = make_client(context_tokens=4096, max_output_tokens=1024, map_output_tokens=256)
    result = run(client, rules_doc, long_transcript())
    assert result.method == "rules" and "rejected the request (HTTP 400)" in (result.reason or "")
    assert result.llm_calls == 3


def test_map_calls_leave_time_for_the_final_call(fake_openai: FakeOpenAIServer, make_client: MakeClient,
                                                 fake_clock: FakeClock, rules_doc: FakeRulesDoc) -> None:
    # deadline 4 s, reserve min(timeout 1 s, 25% of 4 s) = 1 s: a map retry 3.5 s away fits the
    # whole run's deadline but not the map stage's, so it is not waited for.
    fake_openai.script(rate_limited(retry_after="3.5"))
    fake_openai.default = reply(scripted_model)
    client = make_client(context_tokens=4096, max_output_tokens=1024, map_output_tokens=256,
                         timeout_s=1.0, deadline_s=4.0)
    result = run(client, rules_doc, long_transcript())
    assert result.method == "rules" and "would pass the deadline" in (result.reason or "")
    assert fake_clock.sleeps == [] and len(fake_openai.requests) == 1


# ---------------------------------------------------------------------------------------------
# with the real rules engine


def lossy_model(req: RecordedRequest) -> str:
    """Rewrites the draft it was given the way a small model might: drops the errors section
    and the file list, rewrites what the user asked as a summary, adds a preamble."""
    user = req.messages[-1]["content"]
    draft = user.split("DRAFT HANDOFF (rules-based):\n<<<\n", 1)[1].split("\n>>>", 1)[0]
    out = []
    for sec in split_sections(draft)[1]:
        title = sec.heading.lower()
        if "errors" in title:
            continue
        if "files changed" in title:
            out.append(sec.heading + "\n- The token module was changed to refresh earlier.")
        elif "what the user asked" in title:
            out.append(sec.heading + "\nThe login bug was investigated and fixed.")
        else:
            out.append(sec.text())
    return "Here is your handoff.\n\n" + "\n\n".join(out)


def test_real_rules_document_is_repaired(fake_openai: FakeOpenAIServer, make_client: MakeClient) -> None:
    from chalicelib.handoff.rules import build_handoff
    from chalicelib.transcripts.model import FileChange

    session = {**SESSION, "next_steps": ["TASK-123: add the audit log"]}
    doc = build_handoff(project=PROJECT, session=session, messages=short_transcript(),
                        file_changes=[FileChange("src/auth/token.py", lines_added=42, lines_removed=7)],
                        previous=None, pins=["Never push to main without review"],
                        generated_at="2026-11-20T10:00:00Z")
    assert doc.must_keep
    fake_openai.script(reply(lossy_model))
    result = generate_llm_handoff(rules_doc=doc, messages=short_transcript(), client=make_client(),
                                  project=PROJECT, session=session)
    md = result.markdown
    assert result.method == "llm+rules", result.reason
    assert {f["kind"] for f in result.restored} >= {"user_request"}  # the error also stands in Next action
    assert "The login bug was investigated and fixed." in md and "Here is your handoff" not in md
    for fact in doc.must_keep:
        assert contains_fact(md, fact["text"]), fact
    assert md.startswith("# Handoff: Demo project")
    assert "Generated by: llm+rules" in md and "Generated by: rules" not in md
    assert "E AssertionError: expected 200, got 401" in md  # first named by Next action ("make it pass")
    # the file fact is back (the model's file list had lost it)
    assert "`src/auth/token.py`" in md


# ---------------------------------------------------------------------------------------------
# helpers


def test_render_transcript_is_compact() -> None:
    msgs = [
        Message("user", "please fix"),
        Message("assistant", "", tool_calls=[ToolCall("Bash", {"command": "make test\n--verbose", "timeout": 60})]),
        Message("tool", tool_results=[ToolResult("line\n" * 500, name="Bash")]),
        Message("tool", tool_results=[ToolResult("Traceback...\n" + "frame\n" * 400 + "ValueError: boom",
                                                 is_error=True)]),
        Message("user", "<system-reminder>" + "x" * 1000, injected=True),
    ]
    text = render_transcript(msgs)
    assert "USER: please fix" in text
    assert "  -> Bash command=make test ⏎ --verbose timeout=60" in text
    assert len(text) < 4000  # 2,500 chars of tool output trimmed
    assert "ValueError: boom" in text  # the end of an error is kept
    assert "USER (harness): <system-reminder>" in text and "x" * 500 not in text
    assert "line ⏎ line" not in render_transcript(msgs, level=2)  # level 2 drops plain results
    assert "ValueError: boom" in render_transcript(msgs, level=2)


def test_split_chunks_respects_the_size() -> None:
    blocks = ["a" * 300, "b" * 300, "c" * 1000, "d" * 10]
    chunks = split_chunks(blocks, 400)
    assert all(len(c) <= 400 for c in chunks)
    assert "".join(chunks).replace("\n", "") == "".join(blocks)


def test_trim_markdown_keeps_every_heading_within_the_limit() -> None:
    trimmed = trim_markdown(RULES_MD, 350)
    assert len(trimmed) <= 350
    assert [s.heading for s in split_sections(trimmed)[1]] == [s.heading for s in split_sections(RULES_MD)[1]]
    assert trim_markdown(RULES_MD, 10_000) == RULES_MD


def test_clean_answer_starts_at_the_first_section() -> None:  # the writer's clip is chalicelib.text.clip_middle
    assert clean_answer("Intro\n# Title\n## A\ntext\n## B\n") == "## A\ntext\n## B"
    assert clean_answer("no headings at all") == "no headings at all"


def test_state_task_and_contract_facts_survive_a_model_that_drops_them(
        fake_openai: FakeOpenAIServer, make_client: MakeClient) -> None:
    """The LLM path gets the rules document's current work, state and task contract as must-keep
    facts; a model that leaves them out is repaired with the rules' lines (issue 9, item 11)."""
    import io
    from pathlib import Path

    from chalicelib.handoff.rules import build_handoff
    from chalicelib.transcripts import importing

    real = Path(__file__).resolve().parents[2] / "fixtures/real/claude-code"
    import gzip
    import json as _json
    raw = gzip.decompress(next(real.glob("258c7280*.jsonl.gz")).read_bytes()).splitlines()
    cut = next(i for i, line in enumerate(raw) if b'"compact_boundary"' in line
               and _json.loads(line).get("subtype") == "compact_boundary")
    messages, _stats, _changes = importing.import_all(io.BytesIO(b"\n".join(raw[:cut]) + b"\n"), "claude-code")
    messages = list(messages)
    doc = build_handoff(project=PROJECT, session={"number": 1, "status": "in_progress"}, messages=messages,
                        file_changes=[], previous=None, pins=[], generated_at="2026-11-20T10:00:00Z")
    kinds = {f["kind"] for f in doc.must_keep}
    assert {"task_id", "next_action", "contract", "state", "convention"} <= kinds

    titles = section_titles(doc.markdown)

    def forgetful(req: RecordedRequest) -> str:
        # every section heading, but the facts under them are gone (current task, state, contracts)
        return "# Handoff\n\n" + "\n\n".join(f"## {t}\n- Work continued on the review page." for t in titles)

    fake_openai.script(*[reply(forgetful) for _ in range(40)])
    result = generate_llm_handoff(rules_doc=doc, messages=messages, client=make_client(), project=PROJECT,
                                  session={"number": 1})
    md = result.markdown
    assert result.method == "llm+rules", result.reason
    assert "spotter-gqc.6" in md and "not re-verified" in md and "Close review session" in md
    for fact in doc.must_keep:
        assert contains_fact(md, fact["text"]), fact
