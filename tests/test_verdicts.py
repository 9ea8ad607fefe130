import numpy as np
import pytest

from utils.verdicts import (
    NOT_DISCRIMINATING,
    NOT_REPRODUCED,
    REPRODUCED,
    Rule,
    bootstrap_interval,
    decide,
    decision_record,
    sign_test,
)


def test_bootstrap_interval_brackets_the_mean_and_is_reproducible():
    values = np.random.default_rng(0).normal(1.0, 0.5, size=20)
    low, high = bootstrap_interval(values)
    assert low < values.mean() < high
    assert (low, high) == bootstrap_interval(values)
    # a percentile bootstrap of the mean of normal data is close to the t interval
    half = 2.09 * values.std(ddof=1) / np.sqrt(len(values))
    assert high - low == pytest.approx(2 * half, rel=0.25)
    assert bootstrap_interval([0.3]) == (0.3, 0.3)
    low, high = bootstrap_interval([0.1, 0.4])
    assert low == pytest.approx(0.1) and high == pytest.approx(0.4)


def test_sign_test_is_the_exact_binomial_tail():
    assert sign_test([1, 2, 3, 4, 5]) == pytest.approx(1 / 32)
    assert sign_test([1, 2, 3, 4, -5]) == pytest.approx(6 / 32)
    assert sign_test([-1, -2], direction="below") == pytest.approx(1 / 4)
    assert sign_test([0.0, 0.0]) == 1.0


def test_rule_counts_replicates_and_checks_the_interval():
    rule = Rule(threshold=0.0, share=0.8, interval=False)
    assert rule.needed(5) == 4 and rule.needed(2) == 2 and rule.needed(3) == 3
    assert rule.passes([1, 1, 1, 1, -1])
    assert not rule.passes([1, 1, 1, -1, -1])
    # every replicate above 0, but the interval of the mean is not: fails with interval=True
    assert Rule(interval=False).passes([0.01, 0.02, 5.0])
    assert Rule(threshold=1.0, direction="below").passes([0.5, 0.6, 0.7])
    assert not Rule(threshold=1.0, direction="below").passes([0.5, 1.2, 0.7])
    most = Rule(share=0.5, strict=True, interval=False)
    assert [most.needed(n) for n in (1, 2, 3, 4, 10)] == [1, 2, 2, 3, 6]
    assert most.passes([1, 1, -1]) and not most.passes([1, -1])
    assert "more than 50%" in most.describe()
    with pytest.raises(ValueError, match="share"):
        Rule(share=1.0, strict=True)
    text = Rule(threshold=0.5, share=0.8).describe(5)
    assert "at least 4 of 5 replicates" in text and "above 0.5" in text
    with pytest.raises(ValueError, match="direction"):
        Rule(direction="up")
    with pytest.raises(ValueError, match="share"):
        Rule(share=0.0)


def test_decide_tells_the_four_outcomes_apart():
    rule = Rule(threshold=0.0)
    assert decide([0.2, 0.3, 0.25], rule)[0] == REPRODUCED
    assert decide([0.2, -0.3, 0.25], rule)[0] == NOT_REPRODUCED
    assert decide([0.2, 0.3], rule, control=[-0.1, 0.05])[0] == REPRODUCED
    verdict, summary, control = decide([0.2, 0.3], rule, control=[0.1, 0.2])
    assert verdict == NOT_DISCRIMINATING and control.passes and summary.on_side == 2
    # a claim that fails its rule is "not reproduced" whatever its control does
    assert decide([-0.2, -0.3], rule, control=[0.1, 0.2])[0] == NOT_REPRODUCED


def test_a_record_names_the_count_needed_and_the_verdicts_one_replicate_away():
    most = Rule(share=0.5, strict=True, interval=False)  # 10 of 18 needed
    record = decision_record([1.0] * 9 + [-1.0] * 9, most, control=[-1.0, -1.0])
    assert record["verdict"] == NOT_REPRODUCED and (record["on_side"], record["needed"]) == (9, 10)
    assert record["one_replicate_from_flip"] and (
        record["control"]["on_side"],
        record["control"]["needed"],
    ) == (0, 2)
    assert decision_record([1.0] * 10 + [-1.0] * 8, most)["one_replicate_from_flip"]
    assert not decision_record([1.0] * 12 + [-1.0] * 6, most)["one_replicate_from_flip"]
    every = Rule(interval=False)
    # 17 of 18 against "every" is one away; 18 of 18 is not listed (no replicate may be off)
    assert every.one_replicate_from_flip(17, 18) and not every.one_replicate_from_flip(18, 18)
    assert decision_record([1.0, 2.0], every, control=[1.0, 1.0])["verdict"] == NOT_DISCRIMINATING


def test_bad_effects_are_named():
    with pytest.raises(ValueError, match="no replicates"):
        decide([], Rule())
    with pytest.raises(ValueError, match="NaN"):
        decide([0.1, float("nan")], Rule())
