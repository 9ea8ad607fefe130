"""Sweeps: the grid, the pooled verdicts, and a real sweep of chapter 0 on a Dask
LocalCluster with one job killed on purpose and then resumed."""

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from replication.__main__ import main
from replication.sweep import (
    grid,
    is_complete,
    parse_grid_param,
    parse_seeds,
    pool_claims,
    pooled_reason,
    run_sweep,
    sweep_report,
)
from utils.verdicts import Rule


def test_seeds_and_grid_parameters_parse():
    assert parse_seeds("0-4") == [0, 1, 2, 3, 4]
    assert parse_seeds("0,3,7-8") == [0, 3, 7, 8]
    with pytest.raises(ValueError, match="--seeds"):
        parse_seeds("a-b")
    with pytest.raises(ValueError, match="distinct"):
        parse_seeds("1,1")
    assert parse_grid_param("MODEL=bert-base-cased,roberta-base") == (
        "MODEL",
        ["bert-base-cased", "roberta-base"],
    )
    assert parse_grid_param("EPOCHS=2,8") == ("EPOCHS", [2, 8])
    assert parse_grid_param('LAYERS="2,7,12"') == ("LAYERS", ["2,7,12"])
    with pytest.raises(ValueError, match="NAME=V1,V2"):
        parse_grid_param("oops")


def test_grid_is_every_seed_times_every_value():
    jobs = grid("toolkit", "ci", "cpu", [0, 1], {"MODEL": ["minilm", "/models/bert"], "DATA": [""]})
    assert len(jobs) == 4
    assert jobs[0].name == "seed=0,MODEL=minilm,DATA="
    assert jobs[3].name == "seed=1,MODEL=bert,DATA="
    assert jobs[3].command(Path("out"))[-4:] == ["-p", "MODEL=/models/bert", "-p", "DATA="]
    with pytest.raises(ValueError, match="unknown chapter"):
        grid("nope", "ci", "cpu", [0])
    with pytest.raises(ValueError, match="no parameter 'EPOCS'"):
        grid("toolkit", "ci", "cpu", [0], {"EPOCS": [5]})  # misspelt


def _run(effects, control=None, rule=None, verdict="reproduced"):
    rule = rule or Rule()
    record = {
        "id": "probe_beats_majority",
        "verdict": verdict,
        "effects": effects,
        "rule_spec": {
            "threshold": rule.threshold,
            "direction": rule.direction,
            "share": rule.share,
            "interval": rule.interval,
            "level": rule.level,
        },
    }
    if control is not None:
        record["control"] = {"effects": control}
    return {"claims": [record]}


def test_claims_are_pooled_over_the_replicates_of_every_run():
    rule = Rule(threshold=0.5)
    runs = [_run([0.8, 0.7], [0.1, 0.0], rule), _run([0.9, 0.6], [0.2, 0.1], rule)]
    pooled = {c["id"]: c for c in pool_claims("toolkit", runs)}
    claim = pooled["probe_beats_majority"]
    assert claim["n"] == 4 and claim["verdict"] == "reproduced" and claim["runs"] == 2
    assert claim["control"]["n"] == 4 and not claim["control"]["passes"]
    # one run's replicate below the threshold fails a rule that wants every replicate
    runs.append(_run([0.9, 0.4], [0.0, 0.1], rule))
    assert pool_claims("toolkit", runs)[0]["verdict"] == "not reproduced"
    assert pooled["pretraining_matters"]["verdict"] == "not tested"
    with pytest.raises(ValueError, match="different rules"):
        pool_claims("toolkit", [_run([1.0]), _run([1.0], rule=Rule(threshold=2.0))])


def _kill_when_started(folder, chapter, timeout=600):
    """Kill the job in ``folder`` once its chapter has started recording (SIGKILL)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        pid, recorded = folder / "pid", folder / f"{chapter}.json"
        if pid.exists() and recorded.exists():
            os.kill(int(pid.read_text()), signal.SIGKILL)
            return True
        time.sleep(0.2)
    return False


@pytest.mark.slow
def test_not_tested_reasons_are_pooled_once_each():
    probe = "precondition 'lm_learned_topic' failed: topic probe {} % against {} %"
    reasons = [probe.format(14.0, 17.5), "", probe.format(9.2, 20.8), "needs a GPU", "needs a GPU"]
    assert pooled_reason(reasons) == (
        f"{probe.format(14.0, 17.5)} (in 2 runs; the first run's numbers); needs a GPU (in 2 runs)"
    )
    assert pooled_reason(["needs a GPU"]) == "needs a GPU"
    assert pooled_reason(["", ""]) == "no run recorded it"


def test_a_sweep_on_a_local_dask_cluster_survives_a_killed_job(tmp_path):
    jobs = grid("toolkit", "ci", "cpu", [0, 1])
    output = tmp_path / "sweep"
    killed = {}
    killer = threading.Thread(
        target=lambda: killed.update(done=_kill_when_started(output / jobs[1].name, "toolkit"))
    )
    killer.start()
    statuses = run_sweep(jobs, output, engine="local", workers=2)
    killer.join()
    assert killed["done"]
    assert statuses[jobs[0].name]["status"] == "ok"
    assert statuses[jobs[1].name] == {
        **statuses[jobs[1].name],
        "status": "failed",
        "error": "killed by SIGKILL",
    }
    assert is_complete(jobs[0], output / jobs[0].name)
    assert not is_complete(jobs[1], output / jobs[1].name)  # its JSON is there, unfinished
    text = sweep_report(jobs, output)
    assert "1 of 2 jobs complete" in text and "FAILED seed=1: killed by SIGKILL" in text

    # the rerun skips the complete job and runs the killed one again
    statuses = run_sweep(jobs, output, engine="local", workers=2)
    assert statuses[jobs[0].name] == {"status": "skipped"}
    assert statuses[jobs[1].name]["status"] == "ok"
    text = sweep_report(jobs, output)
    assert "2 of 2 jobs complete" in text and "FAILED" not in text
    recorded = [json.loads((output / j.name / "toolkit.json").read_text()) for j in jobs]
    per_run = [c["n"] for r in recorded for c in r["claims"] if c["id"] == "probe_beats_majority"]
    assert f"n={sum(per_run)}" in text  # the verdict pools every run's replicates
    # the command line resumes the same sweep without starting a cluster, and reports it
    assert (
        main(
            [
                "sweep",
                "toolkit",
                "--scale",
                "ci",
                "--device",
                "cpu",
                "--seeds",
                "0-1",
                "--output",
                str(output),
            ]
        )
        == 0
    )
