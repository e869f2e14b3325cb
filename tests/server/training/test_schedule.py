"""The cached-side trainers' learning rate: warm-up, then a decay that ends where training will end."""
import pytest

from server.training.schedule import BudgetSchedule


def test_without_a_budget_the_rate_warms_up_then_decays_to_zero_at_the_planned_step():
    s = BudgetSchedule(1e-4, planned=100, warmup_ratio=0.1, budget_s=None, decay=True)
    assert s.rate(0) == pytest.approx(1e-5)
    assert s.rate(9) == pytest.approx(1e-4)
    assert s.rate(55) == pytest.approx(0.5e-4)
    assert s.rate(100) == 0.0
    s.update(50, spent_s=1e9, train_s=1.0)  # no budget: the horizon stays the planned one
    assert s.horizon == 100


def test_a_budget_that_stops_training_first_moves_the_decay_and_the_warm_up_to_the_steps_it_allows():
    s = BudgetSchedule(1e-4, planned=1000, warmup_ratio=0.1, budget_s=100.0, decay=True)
    s.update(3, spent_s=13.0, train_s=3.0)  # 1 s a step after 10 s of preparation: 87 more steps fit
    assert s.horizon == 90
    assert s.warm == 9  # 10 % of the reachable steps, not of the 1,000 planned
    assert s.rate(8) == pytest.approx(1e-4)
    assert s.rate(89) > 0 and s.rate(90) == 0.0
    s.update(40, spent_s=110.0, train_s=100.0)  # the machine slowed down: the budget is spent
    assert s.horizon == 41 and s.rate(41) == 0.0
    assert s.warm == 9  # sized once


def test_a_budget_larger_than_the_plan_keeps_the_planned_horizon():
    s = BudgetSchedule(1e-4, planned=50, warmup_ratio=0.1, budget_s=1e6)
    s.update(10, spent_s=10.0, train_s=10.0)
    assert s.horizon == 50 and s.warm == 5


def test_without_decay_the_rate_holds_its_peak_after_a_warm_up_sized_on_the_budget():
    s = BudgetSchedule(1e-4, planned=1000, warmup_ratio=0.1, budget_s=100.0)
    s.update(3, spent_s=13.0, train_s=3.0)
    assert s.warm == 9 and s.rate(8) == pytest.approx(1e-4) and s.rate(89) == pytest.approx(1e-4)
