"""Single-document chat formats: ChatGPT export, OpenAI message arrays, ShareGPT."""

from __future__ import annotations

import json

import pytest
from transcript_support import run_import

from chalicelib.transcripts.errors import (
    TranscriptConversationNotFound,
    TranscriptEmpty,
    TranscriptInvalidStructure,
    TranscriptWrongFormat,
)

# -- ChatGPT ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chatgpt(fixtures):
    return run_import(fixtures / "chatgpt_conversations.json")


def test_chatgpt_default_is_the_most_recently_updated_conversation(chatgpt):
    assert chatgpt.stats["format"] == "chatgpt"
    assert chatgpt.info["conversation"]["title"] == "Sum a CSV column"
    assert chatgpt.info["conversations_in_file"] == 2


def test_chatgpt_walks_the_active_branch_only(chatgpt):
    assert [m.role for m in chatgpt.messages] == ["system", "user", "assistant", "tool", "assistant", "user",
                                                  "assistant"]
    assert not any("OLD BRANCH" in m.text for m in chatgpt.messages)  # regenerated answer, not current
    assert chatgpt.messages[-1].text == "You're welcome."


def test_chatgpt_tool_use_thoughts_and_context(chatgpt):
    system, user, think_and_call, tool = chatgpt.messages[:4]
    assert system.injected and system.text == "Prefer concise answers with code."
    assert "[REDACTED:api_key]" in user.text and chatgpt.stats["redactions"] == {"api_key": 1}
    assert "csv module" in think_and_call.thinking
    assert [(c.name, sorted(c.input)) for c in think_and_call.tool_calls] == [("python", ["code"])]
    assert tool.tool_results[0].text == "1234.5" and tool.tool_results[0].tool_call_id == "b-code"
    assert user.timestamp == "2024-06-10T06:13:21.500000Z"
    assert chatgpt.info["model"] == "o3"


@pytest.mark.parametrize("selector", ["6650a1b2-0000-4000-8000-00000000000a", "regex for iso dates"])
def test_chatgpt_select_by_id_or_title(selector, fixtures):
    got = run_import(fixtures / "chatgpt_conversations.json", conversation=selector)
    assert [m.text for m in got.messages] == ["Regex for an ISO date?", "`\\d{4}-\\d{2}-\\d{2}`"]


def test_chatgpt_unknown_conversation_lists_the_choices(fixtures):
    with pytest.raises(TranscriptConversationNotFound) as e:
        run_import(fixtures / "chatgpt_conversations.json", conversation="nope")
    assert "Sum a CSV column" in e.value.message and "Regex for ISO dates" in e.value.message
    assert e.value.to_dict()["error"]["code"] == "transcript_conversation_not_found"


def test_chatgpt_single_conversation_object_without_current_node(fixtures):
    convs = json.loads((fixtures / "chatgpt_conversations.json").read_text())
    one = convs[1]
    del one["current_node"]  # fallback: follow the last child from the root
    got = run_import(json.dumps(one).encode(), "chatgpt")
    assert got.messages[-1].text == "You're welcome."
    assert not any("OLD BRANCH" in m.text for m in got.messages)


def test_chatgpt_empty_export():
    with pytest.raises(TranscriptEmpty):
        run_import(b'[{"title": "x", "mapping": {}}]', "chatgpt")


# -- OpenAI messages -------------------------------------------------------------------------------


def test_openai_messages_array(fixtures):
    got = run_import(fixtures / "openai_messages.json")
    assert got.stats["format"] == "openai"
    assert [m.role for m in got.messages] == ["system", "user", "assistant", "tool", "assistant", "tool", "assistant"]
    assert [c.name for c in got.calls] == ["write_file", "run_shell", "run_shell"]
    assert got.calls[0].input == {"path": "hello.py", "content": "print('hello')\n"}
    tool = got.messages[5]  # consecutive role "tool" messages become one message
    assert [(r.tool_call_id, r.name) for r in tool.tool_results] == [("call_2", "run_shell"), ("call_3", "run_shell")]
    assert got.messages[-1].text == "Done: hello.py prints hello."
    assert [(c.path, c.kind, c.lines_added) for c in got.changes] == [("hello.py", "added", 1)]


def test_openai_object_with_messages_choices_and_usage():
    doc = {"model": "gpt-4.1", "messages": [{"role": "developer", "content": "Be brief."},
                                            {"role": "user", "content": [{"type": "text", "text": "2+2?"}]}],
           "choices": [{"index": 0, "message": {"role": "assistant", "content": "4"}}],
           "usage": {"prompt_tokens": 12, "completion_tokens": 1}}
    got = run_import(json.dumps(doc).encode())
    assert got.stats["format"] == "openai"
    assert [(m.role, m.text) for m in got.messages] == [("system", "Be brief."), ("user", "2+2?"), ("assistant", "4")]
    assert got.stats["tokens"] == 13 and got.info["model"] == "gpt-4.1"


def test_openai_jsonl_and_anthropic_blocks():
    lines = [
        {"role": "user", "content": "read a.txt"},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "use the tool"},
                                          {"type": "tool_use", "id": "t1", "name": "read_file",
                                           "input": {"path": "a.txt"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "nope",
                                      "is_error": True}]},
        {"role": "assistant", "content": "a.txt does not exist"},
    ]
    got = run_import(("\n".join(json.dumps(x) for x in lines) + "\n").encode())
    assert got.stats["format"] == "openai"
    assert [m.role for m in got.messages] == ["user", "assistant", "tool", "assistant"]
    assert got.messages[1].thinking == "use the tool" and got.calls[0].name == "read_file"
    assert got.results[0].is_error and got.results[0].name == "read_file"
    assert got.stats["tool_errors"] == 1


def test_openai_bad_message_is_a_structure_error():
    good = [{"role": "user", "content": f"q{i}"} for i in range(60)]  # detection looks at the first 50
    with pytest.raises(TranscriptInvalidStructure) as e:
        run_import(json.dumps([*good, {"text": "no role"}]).encode(), "openai")
    assert "Message 61" in e.value.message
    with pytest.raises(TranscriptWrongFormat):  # caught up front when the head shows it
        run_import(b'[{"role": "user", "content": "hi"}, {"text": "no role"}]', "openai")


# -- ShareGPT --------------------------------------------------------------------------------------


def test_sharegpt_first_conversation_with_tools(fixtures):
    got = run_import(fixtures / "sharegpt.json")
    assert got.stats["format"] == "sharegpt"
    assert [m.role for m in got.messages] == ["system", "user", "assistant", "tool", "assistant"]
    call = got.calls[0]
    assert (call.name, call.input) == ("get_weather", {"city": "Paris"})
    assert got.results[0].name == "get_weather" and got.results[0].tool_call_id == call.id
    assert got.info["conversations_in_file"] == 2


@pytest.mark.parametrize("selector", ["conv-hello", "1"])
def test_sharegpt_select(selector, fixtures):
    got = run_import(fixtures / "sharegpt.json", conversation=selector)
    assert [m.text for m in got.messages] == ["hi", "Hello! How can I help?"]


def test_sharegpt_single_object_and_unknown_id(fixtures):
    got = run_import(b'{"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}')
    assert got.stats["format"] == "sharegpt" and got.stats["messages"] == 2
    with pytest.raises(TranscriptConversationNotFound):
        run_import(fixtures / "sharegpt.json", conversation="conv-missing")
