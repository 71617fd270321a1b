"""The handoff writer that asks a model: `generate_llm_handoff` is its one entry point.

(The client it calls, OpenAI-compatible or Amazon Bedrock, comes from `chalicelib.llm.make_client`;
this package only writes handoffs and never knows which provider answers.)

The rules-based document (`chalicelib.handoff.rules`) is always built first: it is deterministic
and holds the must-keep facts. This package asks the configured model for a better-written
handoff from the same material, then distrusts the answer:

1. prompt: the redacted transcript rendered compactly (tool calls one line each, tool results
   trimmed, errors kept), the rules document and its must-keep facts, all sized to the model's
   window; a transcript that does not fit is map-reduced (notes per chunk, then one final call);
2. check: the answer must be non-empty, have the key section headings and stay near the budget;
3. repair: every must-keep fact the model dropped is put back with its rules line, under its
   section (a section the model left out comes back holding just those lines; a fact found in
   no section goes to "Facts carried by rules") -> method "llm+rules"; the header, pinned context and metrics
   are always taken verbatim from the rules document;
4. fallback: no answer, or one that fails the check, gives the rules document (method "rules").

`generate_llm_handoff` never raises for LLM faults: a handoff is always produced.

One job per module (private: import from this package, not from them):

- `_run`: the run: deadline, call budget, single call or map-reduce, fallback reasons;
- `_prompts`: the system and user prompts, the project/session context and must-keep facts blocks;
- `_transcript`: the transcript rendered compactly for the model, chunked to the window;
- `_sections`: the answer's level-2 sections: clean, check, trim and repair.
"""

from ._run import LLMHandoffResult, generate_llm_handoff

__all__ = ["LLMHandoffResult", "generate_llm_handoff"]
