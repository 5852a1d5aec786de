"""The answer shape Vapi expects for tool-calls (CONTRACT §4.2, §10.2), as a checker."""

from __future__ import annotations

from typing import Any


def assert_tool_answer_shape(body: Any, message: dict) -> None:
    """``{"results": [...]}``, one entry per toolCallList item in order, exact ids, one-line strings."""
    assert isinstance(body, dict) and set(body) == {"results"}, body
    results = body["results"]
    assert isinstance(results, list)
    calls = message.get("toolCallList") or []
    assert len(results) == len(calls)
    for item, result in zip(calls, results, strict=True):
        assert set(result) in ({"toolCallId", "name", "result"}, {"toolCallId", "name", "error"}), result
        assert result["toolCallId"] == str(item.get("id", ""))
        expected_name = (item.get("function") or {}).get("name") or item.get("name") or ""
        assert result["name"] == expected_name
        text = result.get("result", result.get("error"))
        assert isinstance(text, str) and text.strip()
        assert "\n" not in text and "\r" not in text
