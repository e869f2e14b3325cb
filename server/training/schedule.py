"""The learning rate of the cached-side trainers (adapter, query encoder, top layers): a linear warm-up,
then the peak rate, or (decay=True) a linear decay to zero at the last step training will reach.

That last step is the planned one (epochs x batches), or, when a time budget will stop training first,
the step the budget allows at the speed measured so far (re-estimated every step: a shared machine's
speed changes). The warm-up is sized on those steps: one sized on planned steps that the budget never
reaches never ends (seen on this 2-core CPU). Decay is off by default: on ADGM top layers, where the
30-minute budget ends training before one epoch, decaying to the budget's last step gave a lower
validation curve than the constant rate (0.650 vs 0.662 at step 160-175, bench/RERANKER.md): an
undertrained model loses more from the smaller steps than it gains from annealing.
"""
from __future__ import annotations

__all__ = ["BudgetSchedule"]

MEASURE_AFTER = 3  # steps timed before the budget's horizon is trusted


class BudgetSchedule:
    def __init__(self, peak: float, planned: int, warmup_ratio: float, budget_s: float | None,
                 decay: bool = False) -> None:
        self.peak, self.planned, self.ratio, self.budget_s = peak, max(1, planned), warmup_ratio, budget_s
        self.decay = decay
        self.warm = max(1, int(warmup_ratio * self.planned))
        self.horizon = self.planned
        self._warm_fixed = budget_s is None

    def update(self, step: int, spent_s: float, train_s: float) -> None:
        """After `step` steps: `spent_s` of the budget used in all, `train_s` of it by the steps (and validations)."""
        if self.budget_s is None or step < MEASURE_AFTER or train_s <= 0:
            return
        per_step = train_s / step
        reachable = step + int(max(0.0, self.budget_s - spent_s) / per_step)
        self.horizon = max(step + 1, min(self.planned, reachable))
        if not self._warm_fixed:  # size the warm-up once, on the first estimate of the steps the budget allows
            self.warm = max(1, min(self.warm, int(self.ratio * self.horizon)))
            self._warm_fixed = True

    def rate(self, step: int) -> float:
        """The learning rate of optimiser step `step` (0-based)."""
        if step < self.warm:
            return self.peak * (step + 1) / self.warm
        if not self.decay:
            return self.peak
        span = max(1, self.horizon - self.warm)
        return self.peak * max(0.0, (self.horizon - step) / span)
