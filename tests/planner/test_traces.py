"""CSV traces: one shape, and every bad trace reported with line numbers (never a traceback)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from modeldeck.errors import UserError
from modeldeck.planner import Trace, TraceError, parse_csv_trace, read_csv_trace

GOOD = """minute,input_tokens,output_tokens,thinking_output_tokens
2026-03-01T10:00+08:00,12000,800,300
2026-03-01T10:01+08:00,0,0,0
2026-03-01T10:02+08:00,45000,2500,2500
"""


def test_csv_with_header_and_thinking_column() -> None:
    trace = parse_csv_trace(GOOD)
    assert trace.start == datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    assert trace.minutes == 3
    assert trace.input_tokens == [12000, 0, 45000]
    assert trace.output_tokens == [800, 0, 2500]
    assert trace.thinking_output_tokens == [300, 0, 2500]
    assert trace.has_thinking
    assert trace.zero_filled_minutes == 0


def test_csv_without_header_three_columns_in_any_order_and_offset(tmp_path: Path) -> None:
    path = tmp_path / "usage.csv"
    path.write_text("2026-03-01T02:01:00Z,5,6\n2026-03-01T10:00:00+08:00,1,2\n", encoding="utf-8")
    trace = read_csv_trace(path)
    assert trace.source == "usage.csv"
    assert trace.input_tokens == [1, 5]
    assert trace.output_tokens == [2, 6]
    assert trace.thinking_output_tokens is None
    assert not trace.has_thinking


def test_request_sizes_and_model_columns() -> None:
    text = (
        "minute,input_tokens,output_tokens,model,request_input_tokens\n"
        "2026-03-01T10:00+08:00,41000,900,qwen3-max-2025-09-23,1000;40000\n"
        "2026-03-01T10:01+08:00,0,0,qwen3-max-2025-09-23,\n"
    )
    trace = parse_csv_trace(text)
    assert trace.model == "qwen3-max-2025-09-23"
    assert trace.request_inputs == [[1000, 40000], []]


def problems_of(text: str, **kwargs: object) -> list[str]:
    with pytest.raises(TraceError) as caught:
        parse_csv_trace(text, **kwargs)  # type: ignore[arg-type]
    err = caught.value
    assert isinstance(err, UserError)  # surfaces show it as a user error, never a traceback
    assert err.hint and "ISO 8601" in err.hint
    assert "Traceback" not in str(err)
    return err.problems


def test_every_problem_is_reported_with_its_line() -> None:
    text = (
        "minute,input_tokens,output_tokens\n"
        "2026-03-01T10:00+08:00,100,10\n"  # line 2: fine
        "2026-03-01T10:01+08:00,-5,10\n"  # line 3: negative
        "2026-03-01T10:02+08:00,abc,10\n"  # line 4: not numeric
        "2026-03-01T10:03+08:00,1.5,10\n"  # line 5: not whole
        "2026-03-01T10:04,100,10\n"  # line 6: no offset
        "2026-03-01T10:00+08:00,100,10\n"  # line 7: duplicate of line 2
        "2026-03-01T10:05:30+08:00,1,1\n"  # line 8: not a whole minute
        "yesterday,1,1\n"  # line 9: not a time
        "2026-03-01T10:06+08:00,1\n"  # line 10: too few values
    )
    problems = problems_of(text)
    joined = "\n".join(problems)
    assert "line 3: input_tokens is -5; token counts cannot be negative" in joined
    assert "line 4: input_tokens 'abc' is not a whole number of tokens" in joined
    assert "line 5: input_tokens '1.5' is not a whole number" in joined
    assert "line 6: minute '2026-03-01T10:04' has no offset" in joined
    assert "line 7: minute 2026-03-01T10:00+08:00 repeats line 2" in joined
    assert "line 8:" in joined and "whole minute" in joined
    assert "line 9: minute 'yesterday' is not an ISO 8601 time" in joined
    assert "line 10: 2 values, expected 3" in joined


def test_gaps_are_refused_unless_read_as_zero() -> None:
    text = "2026-03-01T10:00+08:00,100,10\n2026-03-01T10:04+08:00,200,20\n"
    problems = problems_of(text)
    assert problems == [
        "lines 1–2: 3 minutes missing after 2026-03-01T02:00:00+00:00 (UTC); pass gaps=zero "
        "to read them as no traffic"
    ]
    trace = parse_csv_trace(text, gaps="zero")
    assert trace.input_tokens == [100, 0, 0, 0, 200]
    assert trace.zero_filled_minutes == 3


def test_mixed_models_thinking_above_output_and_bad_sizes() -> None:
    text = (
        "minute,input_tokens,output_tokens,thinking_output_tokens,model,request_input_tokens\n"
        "2026-03-01T10:00+08:00,100,10,11,qwen3-max-2025-09-23,100\n"
        "2026-03-01T10:01+08:00,100,10,0,qwen-plus-2025-12-01,60;30\n"
    )
    joined = "\n".join(problems_of(text))
    assert "line 2: thinking_output_tokens 11 is more than output_tokens 10" in joined
    assert "line 3: request_input_tokens sum to 90, not input_tokens 100" in joined
    assert "mixes models: qwen3-max-2025-09-23 (from line 2), qwen-plus-2025-12-01" in joined


def test_header_problems_and_empty_files(tmp_path: Path) -> None:
    assert problems_of("minute,input_tokens,tokens_out\n") == [
        "line 1: unknown column 'tokens_out'",
        "line 1: missing column 'output_tokens'",
    ]
    assert problems_of("") == ["it has no rows"]
    assert problems_of("minute,input_tokens,output_tokens\n") == ["it has a header but no minutes"]
    with pytest.raises(TraceError, match="cannot be read"):
        read_csv_trace(tmp_path / "missing.csv")


def test_many_problems_are_summarised() -> None:
    text = "".join(f"2026-03-01T10:{i:02d}+08:00,-1,0\n" for i in range(30))
    with pytest.raises(TraceError) as caught:
        parse_csv_trace(text)
    assert len(caught.value.problems) == 30
    assert "… and 10 more problems" in str(caught.value)


def test_scaling_keeps_the_shape() -> None:
    trace = Trace(
        source="t",
        start=datetime(2026, 3, 1, tzinfo=UTC),
        input_tokens=[10, 5, 0],
        output_tokens=[3, 1, 0],
        thinking_output_tokens=[3, 0, 0],
        request_inputs=[[5, 5], [5], []],
    )
    grown = trace.scaled(6, 5)
    assert grown.input_tokens == [12, 6, 0]
    assert grown.output_tokens == [4, 1, 0]  # 3.6 -> 4, 1.2 -> 1 (half up)
    assert grown.thinking_output_tokens == [4, 0, 0]
    assert grown.request_inputs == [[6, 6], [6], []]
