"""The composition root: which reranker serving uses, and that parts are built once."""
from __future__ import annotations

from pathlib import Path

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
