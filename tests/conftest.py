"""Shared fixtures: a tiny hand-made index (no parsers involved) and the sample corpus index."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from graph.model import Mention, Passage, Reference
from graph.store import write_index
from server.corpus import Corpus
from server.services import Services, open_services
from server.settings import Settings

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("READTRAIL_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session", autouse=True)
def no_models_in_the_fast_tier():
    """`make test-fast` sets READTRAIL_TEST_TIER=fast: loading a model there is a mis-marked test, and fails."""
    if os.environ.get("READTRAIL_TEST_TIER") != "fast":
        yield
        return
    import sentence_transformers

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("this test loads a model: mark it @pytest.mark.slow")
    saved = sentence_transformers.SentenceTransformer.__init__, sentence_transformers.CrossEncoder.__init__
    sentence_transformers.SentenceTransformer.__init__ = refuse  # type: ignore[method-assign]
    sentence_transformers.CrossEncoder.__init__ = refuse  # type: ignore[method-assign]
    try:
        yield
    finally:
        sentence_transformers.SentenceTransformer.__init__, sentence_transformers.CrossEncoder.__init__ = saved


def tiny_passages() -> list[Passage]:
    def p(doc: str, title: str, ord_: int, label: str, text: str, path: list[str]) -> Passage:
        return Passage(id=f"{doc}:{label}", doc_id=doc, doc_title=title, ord=ord_, text=text, label=label, heading_path=path)

    return [
        p("aml", "Anti Money Laundering Rules", 0, "1", "Introduction to the money laundering rules.", ["1 Introduction"]),
        p("aml", "Anti Money Laundering Rules", 1, "1.1", "A Relevant Person must appoint a Money Laundering Reporting Officer. See Rule 2.1.", ["1 Introduction", "1.1 Appointment"]),
        p("aml", "Anti Money Laundering Rules", 2, "2", "Reporting duties.", ["2 Reporting"]),
        p("aml", "Anti Money Laundering Rules", 3, "2.1", "The officer must file a suspicious activity report within 5 days, as set out in Section 4 of the GEN Rules.", ["2 Reporting", "2.1 Reports"]),
        p("gen", "General Rules", 0, "4", "Notifications to the Regulator must be made in writing.", ["4 Notifications"]),
        p("gen", "General Rules", 1, "5", "Record keeping for six years.", ["5 Records"]),
    ]


@pytest.fixture(scope="session")
def tiny_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    passages = tiny_passages()
    refs = [
        Reference(src="aml:1.1", text="Rule 2.1", targets=["aml:2.1"]),
        Reference(src="aml:2.1", text="Section 4 of the GEN Rules", targets=["gen:4"]),
        Reference(src="aml:2.1", text="Rule 99.9", targets=[]),
    ]
    mentions = [Mention(src="aml:2.1", dst="gen:4", term="GEN Rules")]
    containment = [("aml:1", "aml:1.1"), ("aml:2", "aml:2.1")]
    folder = tmp_path_factory.mktemp("tiny") / "index"
    write_index(folder, passages, refs, mentions, containment, {"sources": ["tiny"]})
    return folder


@pytest.fixture(scope="session")
def tiny_corpus(tiny_index: Path) -> Corpus:
    return Corpus.open(tiny_index)


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample corpus, indexed through the real pipeline."""
    from graph.pipeline import build_index
    from server.settings import SAMPLE_CORPUS

    folder = tmp_path_factory.mktemp("sample") / "index"
    build_index([SAMPLE_CORPUS / "docs"], folder)
    return folder


@pytest.fixture(scope="session")
def sample_corpus(sample_index: Path) -> Corpus:
    return Corpus.open(sample_index)


def settings_for(home: Path, **changes: object) -> Settings:
    """Settings that touch nothing outside `home`, warm nothing and search with BM25 (the environment is
    not read)."""
    # search_mode bm25: the fast tier loads no model (hybrid is tested with a fake encoder and, in the slow
    # tier, with MiniLM)
    values: dict[str, object] = {"index": home / "index", "is_sample": False, "warm": False, "search_mode": "bm25",
                                 "feedback_db": home / "feedback.sqlite3", **changes}
    return Settings(home=home, **values)  # type: ignore[arg-type]


def make_services(corpus: Corpus, home: Path, reranker_override: object = None, chat_model_override: object = None,
                  **settings: object) -> Services:
    """Services over `corpus`; `reranker_override=` / `chat_model_override=` inject stand-ins; other
    keywords change the settings (model=..., prompts=...)."""
    return open_services(settings_for(home, **settings), corpus, reranker_override=reranker_override,
                         chat_model_override=chat_model_override)


def server_over(corpus: Corpus, **kw: object):
    """An in-memory MCP server over `corpus` with a throwaway home (see make_services for `kw`)."""
    from server.mcp import create_server

    return create_server(make_services(corpus, Path(tempfile.mkdtemp(prefix="rt-home-")), **kw))


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: this test needs the shared evaluation data beside the checkout")
    return path
