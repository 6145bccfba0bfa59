"""Reading the JSON out of a chat model's free-form reply.

Servers without structured output (and small models with it) wrap the answer in prose,
markdown fences or reasoning blocks, and stop mid-answer when they hit their output token
limit. ``answer_json`` digs the answer out so that check_answer sees plain JSON:

- ``<think>...</think>`` blocks (reasoning models served by Ollama, vLLM) are dropped;
- a ```json fenced block is preferred over the text around it;
- the outermost JSON object is taken, ignoring text before and after it; a bare list of
  segments is wrapped as ``{"segments": [...]}``;
- an answer cut off after at least one complete segment is closed right after the last
  complete segment. Whether what is left is usable is check_answer's call: a lost tail
  of a line or two is filled like any small gap, a longer one is reported as uncovered
  lines and re-asked.

Anything it cannot make sense of is returned unchanged, so that check_answer's message
("not valid JSON ...") describes what the model actually sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n?(.*?)(?:```|\Z)", re.DOTALL)
_CLOSER = {"{": "}", "[": "]"}


@dataclass(frozen=True)
class _Scan:
    end: int | None  # index after the bracket that closes the first one; None if never
    cut: int | None  # index after the last complete segment object, if any
    open_at_cut: str  # the brackets still open at ``cut``, outermost first


def answer_json(text: str | None) -> str | None:
    """The JSON answer in ``text``, as well as it can be recovered (see the module doc)."""
    if text is None or not text.strip():
        return text
    body = _THINK.sub("", text)
    fenced = [block for block in _FENCE.findall(body) if "{" in block or "[" in block]
    if fenced:
        body = fenced[0]
    body = body.strip()
    brace, bracket = body.find("{"), body.find("[")
    if brace < 0 and bracket < 0:
        return text
    # A bare list of segments is a common slip when no schema is enforced.
    bare_list = bracket >= 0 and (brace < 0 or bracket < brace)
    body = body[bracket:] if bare_list else body[brace:]
    scan = _scan(body, segment_depth=1 if bare_list else 2)
    if scan.end is not None:
        found = body[: scan.end]
    elif scan.cut is not None:
        found = body[: scan.cut] + "".join(_CLOSER[b] for b in reversed(scan.open_at_cut))
    else:
        return text
    return '{"segments": ' + found + "}" if bare_list else found


def _scan(body: str, segment_depth: int) -> _Scan:
    """Bracket matching that skips strings (a '}' inside a title is not a bracket).

    ``segment_depth`` is how many brackets are open right after a complete segment:
    2 in ``{"segments": [{...}``, 1 in a bare ``[{...}``."""
    stack: list[str] = []
    in_string = escaped = False
    cut: int | None = None
    open_at_cut = ""
    for i, ch in enumerate(body):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in _CLOSER:
            stack.append(ch)
        elif ch in "}]":
            if not stack or _CLOSER[stack[-1]] != ch:
                break  # mismatched brackets: not something a cut can repair
            stack.pop()
            if not stack:
                return _Scan(i + 1, cut, open_at_cut)
            if ch == "}" and len(stack) == segment_depth:
                cut, open_at_cut = i + 1, "".join(stack)
    return _Scan(None, cut, open_at_cut)
