from graph.printable import printable


def test_control_and_invisible_characters_are_escaped_like_repr() -> None:
    assert printable("a\nb\tc\rd") == "a\\nb\\tc\\rd"
    assert printable("\x1b[31mred\x07") == "\\x1b[31mred\\x07"
    assert printable("x\u2028y\u202ez\ufeff") == "x\\u2028y\\u202ez\\ufeff"
    assert printable("bad\udcff") == "bad\\udcff"
    assert printable("\U000e0001") == "\\U000e0001"


def test_printable_text_is_unchanged_and_escaping_twice_changes_nothing() -> None:
    for text in ["Sepsis Care.md", "café/日本語 — ok", "back\\slash", "a\nb\x1b"]:
        once = printable(text)
        assert once.isprintable() and printable(once) == once
    assert printable("Sepsis Care.md") == "Sepsis Care.md"
