"""The composition root: which reranker serving uses, and that parts are built once."""
from __future__ import annotations

from pathlib import Path

import pytest

from server.corpus import Corpus
from server.services import latest_model, reranker_spec
from tests.conftest import make_services, settings_for
from tests.server.traversal.fixture_corpus import OverlapReranker


def test_reranker_choice_flag_then_the_index_model_then_zero_shot(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    assert reranker_spec(settings) is None  # nothing trained: the zero-shot default
    models = settings.index_models
    (models / "rr-1").mkdir(parents=True)
    (models / "LATEST").write_text("rr-1\n", encoding="utf-8")
    assert reranker_spec(settings) == str(models / "rr-1")
    assert reranker_spec(settings.but(reranker="/elsewhere")) == "/elsewhere"


def test_latest_refuses_a_marker_pointing_outside(tmp_path: Path) -> None:
    (tmp_path / "LATEST").write_text("../../etc\n", encoding="utf-8")
    assert latest_model(tmp_path) is None


def test_parts_are_built_once(tiny_corpus: Corpus, tmp_path: Path) -> None:
    rr = OverlapReranker()
    services = make_services(tiny_corpus, tmp_path, reranker_override=rr)
    assert services.reranker() is rr and services.reranker() is rr
    assert services.feedback() is services.feedback()


def test_settings_read_the_environment_once_and_options_win(tmp_path: Path) -> None:
    from server.settings import Settings

    env = {"READTRAIL_HOME": str(tmp_path), "READTRAIL_RERANKER": "/from/env", "READTRAIL_WARM": "0",
           "READTRAIL_ALLOWED_HOSTS": "a.example, b.example"}
    s = Settings.from_env(env, reranker="/from/flag")
    assert s.reranker == "/from/flag" and s.home == tmp_path and not s.warm and s.is_sample
    assert s.allowed_hosts == ("a.example", "b.example") and s.feedback_db == tmp_path / "feedback.sqlite3"
    assert Settings.from_env(env, index=str(tmp_path / "idx")).index_models == tmp_path / "idx" / "models"
    assert s.warm_wait_s == 30.0 and Settings.from_env({**env, "READTRAIL_WARM_WAIT": "2.5"}).warm_wait_s == 2.5
    with pytest.raises(ValueError, match="READTRAIL_WARM_WAIT='soon': give seconds"):
        Settings.from_env({**env, "READTRAIL_WARM_WAIT": "soon"})


def _served(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    """A real index of one file `a.md`, and Services over it that follow re-indexing at every call."""
    from graph.pipeline import build_index

    src, index = tmp_path / "src", tmp_path / "index"
    src.mkdir()
    (src / "a.md").write_text(text, encoding="utf-8")
    build_index([src], index)
    services = make_services(Corpus.open(index), tmp_path)
    return src, index, services, services.watch_index(interval=0)


def test_a_new_generation_is_swapped_in_and_calls_in_flight_keep_the_old_one(tmp_path: Path) -> None:
    import gc

    from graph.pipeline import build_index

    src, index, services, watch = _served(tmp_path, "# A\n\n## 1 One\n\nThe pump is checked daily.\n")
    old = services.corpus  # what a call in flight holds
    services.refresh()
    watch.wait()
    assert services.corpus is old  # nothing new yet
    (src / "a.md").write_text("# A\n\n## 1 One\n\nThe ventilator is checked hourly.\n", encoding="utf-8")
    build_index([src], index)
    services.refresh()
    watch.wait(30)
    assert services.corpus is not old
    assert [h.id for h in services.corpus.search("ventilator hourly").hits] == ["a:1"]
    assert [h.id for h in old.search("pump daily").hits] == ["a:1"]  # the old generation still answers
    assert old.stored.generation.is_dir()
    first = old.stored.generation
    del old
    gc.collect()
    build_index([src], index)  # nobody holds the first generation any more: removed
    assert not first.exists()


def test_a_generation_that_cannot_load_leaves_the_served_one(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    _, index, services, watch = _served(tmp_path, "# A\n\nText.\n")
    served = services.corpus
    (index / "gen-broken").mkdir()
    (index / "CURRENT").write_text("gen-broken", encoding="utf-8")
    services.refresh()
    watch.wait(30)
    assert services.corpus is served
    assert "could not be loaded, still serving the old one" in capsys.readouterr().err
