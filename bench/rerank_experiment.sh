#!/usr/bin/env bash
# The reranker experiment (bench/RERANKER.md): variants a-d on the training splits, e on synthetic
# questions; each evaluated as BM25 top-50 reranked on fixed subsets of NFCorpus dev and obliqa_dev.
# Needs /tmp/idx-nfcorpus and /tmp/idx-adgm (readtrail index ...) and, for e, /tmp/synth-adgm.jsonl
# (bench/rerank_synth.py). Sequential on purpose: the CPU is shared.
set -euo pipefail
cd "$(dirname "$0")/.."
export READTRAIL_HOME=${READTRAIL_HOME:-/tmp/rt-home} HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
SAMPLE=${SAMPLE:-nfcorpus-dev=60,obliqa-dev=60}
STEPS=${STEPS:-40}
BUDGET=${BUDGET:-300}
R=bench/results
mkdir -p "$R"
[ -n "${SKIP_BASE:-}" ] || python bench/rerank_eval.py --name bm25 --sample "$SAMPLE" --out $R/rerank-bm25.json
[ -n "${SKIP_BASE:-}" ] || python bench/rerank_eval.py --name zero-shot --reranker zero-shot --sample "$SAMPLE" --out $R/rerank-zero-shot.json
for v in ${VARIANTS:-a c e d b}; do
  [ -n "${SKIP_TRAIN:-}" ] && [ -d /tmp/rr-exp/$v ] || python bench/rerank_train.py --variant "$v" --out /tmp/rr-exp/$v --max-steps "$STEPS" --time-budget "$BUDGET"
  sets=nfcorpus-dev,obliqa-dev; [ "$v" = e ] && sets=obliqa-dev
  python bench/rerank_eval.py --name "$v" --reranker /tmp/rr-exp/$v --sets $sets --sample "$SAMPLE" --out $R/rerank-$v.json
done
