"""Server start and tool results of one checkout on one index (issue 12): time `Corpus.open` +
`open_services`, then write the results of a fixed set of calls (40 searches; get_passage, neighbors,
follow_reference on 300 seeded passages; list_documents, outlines) and a digest of the whole graph, so
that two checkouts can be compared byte for byte:

    PYTHONPATH=/path/to/main python bench/open_results.py INDEX main.json
    PYTHONPATH=$PWD python bench/open_results.py INDEX new.json && cmp main.json new.json

OUT `-`: time the start only. Prints start wall and CPU seconds, the load, peak and current RSS (kB).
"""
import hashlib
import json
import os
import random
import sys
import time
from pathlib import Path

QUERIES = Path(__file__).resolve().parents[2] / "shared" / "data" / "adgm" / "tasks" / "obliqa_dev" / "queries.jsonl"


def main() -> None:
    t0, c0 = time.perf_counter(), time.process_time()
    from server.corpus import Corpus
    from server.services import open_services
    from server.settings import Settings
    idx, out = Path(sys.argv[1]), sys.argv[2]
    corpus = Corpus.open(idx)
    open_services(Settings.from_env(index=str(idx), warm=False), corpus)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = [line.split()[1] for line in open("/proc/self/status") if line.startswith(("VmHWM", "VmRSS"))]
    print(f"start wall {wall:.2f} cpu {cpu:.2f} load {os.getloadavg()[0]:.2f} peak/now kB", " ".join(rss), flush=True)
    if out == "-":
        return
    rng = random.Random(5)
    with QUERIES.open(encoding="utf-8") as f:
        questions = [json.loads(line)["text"] for line in f][:40]
    n = len(corpus.passages)
    ids = [corpus.passages[rng.randrange(n)].id for _ in range(300)]
    res = [corpus.search(q).model_dump() for q in questions]
    for i in ids:
        res += [corpus.get_passage(i).model_dump(), corpus.neighbors(i).model_dump(), corpus.follow_reference(i).model_dump()]
        refs = corpus.references_of(i)
        if refs:
            res.append(corpus.follow_reference(i, refs[0].text).model_dump())
    docs = corpus.list_documents(0, 50).model_dump()
    res.append(docs)
    res += [corpus.outline(d["id"]).model_dump() for d in docs["documents"][:5]]
    g = corpus.graph
    digest = hashlib.sha256()
    for node in g:
        digest.update(repr(list(g.out_edges(node, keys=True, data=True))).encode())
        digest.update(repr(list(g.in_edges(node, keys=True, data=True))).encode())
    digest.update(repr(list(g.nodes(data=True))).encode())
    res.append({"nodes": g.number_of_nodes(), "edges": g.number_of_edges(), "references": len(corpus.stored.references),
                "mentions": len(corpus.stored.mentions), "graph_sha256": digest.hexdigest()})
    with open(out, "w", encoding="utf-8") as f:
        json.dump(res, f, indent=0, sort_keys=True)
    print("results", len(res), "->", out)


if __name__ == "__main__":
    main()
