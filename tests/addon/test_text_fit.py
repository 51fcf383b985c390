"""text_fit without Blender: lines wrapped by their measured width (a stand-in measure where
capitals and quotes are wider than other characters, as in Blender's UI font), and the job
list row's choice of what follows the whole name."""

from __future__ import annotations

from renderplus.addon.text_fit import LineWidth, extras_fit, wrap_lines


def measure(text: str) -> float:
    """Capitals and quotes 9 px, any other character 6 px."""
    return float(sum(9 if char.isupper() or char == '"' else 6 for char in text))


def test_lines_are_wrapped_by_their_drawn_width_not_their_length() -> None:
    width = LineWidth(120.0, measure)
    text = 'Override "RENDER.FPZ" on "SCENE" is not found'
    lines = wrap_lines(text, width)
    assert " ".join(lines) == text
    assert all(measure(line) <= 120 for line in lines)
    assert len(wrap_lines("a" * 19, width)) == 1 and len(wrap_lines("A" * 19, width)) == 2  # 114 / 171 px
    # a count of characters cuts the capitals: the same 19 fit 120 px only in lower case
    assert wrap_lines("A" * 19, 20) == ["A" * 19]


def test_a_word_longer_than_a_line_is_broken_and_line_breaks_are_kept() -> None:
    lines = wrap_lines('"RENDER.RESOLUTION_PERCENTAGE"\nnext', LineWidth(60.0, measure))
    assert "".join(lines[:-1]) == '"RENDER.RESOLUTION_PERCENTAGE"' and lines[-1] == "next"
    assert all(measure(line) <= 60 for line in lines)
    assert wrap_lines("one\n\ntwo", LineWidth(60.0, measure)) == ["one", "", "two"]


def test_a_row_shows_what_follows_the_name_only_where_the_whole_name_fits() -> None:
    name = "Camera.001 closeup"  # 9 + 17 x 6 = 111 px
    assert extras_fit(name, ["12.7%", "Cam · 1-6 · Cycles"], 140.0, 12.0, measure) == []
    assert extras_fit(name, ["12.7%", "Cam · 1-6 · Cycles"], 170.0, 12.0, measure) == ["12.7%"]
    assert extras_fit(name, ["12.7%", "Cam · 1-6 · Cycles"], 400.0, 12.0, measure) == [
        "12.7%", "Cam · 1-6 · Cycles"]
    assert extras_fit(name, ["", "Cam"], 400.0, 12.0, measure) == ["Cam"]  # nothing to say: no cell
