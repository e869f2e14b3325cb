"""Training the reranker: pairs from labels, feedback and synthetic questions; mined negatives."""
