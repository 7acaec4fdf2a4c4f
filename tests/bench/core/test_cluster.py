"""TF_CONFIG: the cluster's addresses in task order, this task's position, refusals."""

import json

import pytest

from bench.core import cluster
from bench.core.errors import ConfigError


def test_tf_config_gives_the_cluster_in_task_order():
    text = json.dumps({"cluster": {"chief": ["a:1"], "worker": ["b:2", "c:3"]},
                       "task": {"type": "worker", "index": 1}})
    assert cluster.parse(text) == {"addresses": ["a:1", "b:2", "c:3"], "index": 2}
    mine = cluster.make(["localhost:5", "localhost:6"], 1)
    assert cluster.parse(mine) == {"addresses": ["localhost:5", "localhost:6"], "index": 1}


@pytest.mark.parametrize("text", [
    "not json", '{"cluster": 3}', '{"cluster": {"worker": ["a:1"]}}',
    '{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 1}}',
    '{"cluster": {"worker": ["a"]}, "task": {"type": "worker", "index": 0}}',
    '{"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}',
])
def test_a_malformed_tf_config_is_refused(text):
    with pytest.raises(ConfigError) as error:
        cluster.parse(text)
    assert error.value.field == "TF_CONFIG"


def test_the_chief_is_the_first_task_or_a_process_without_a_cluster(monkeypatch):
    monkeypatch.delenv(cluster.ENV_VAR, raising=False)
    assert (cluster.task_index(), cluster.is_chief(), cluster.task()) == (0, True, None)
    monkeypatch.setenv(cluster.ENV_VAR, cluster.make(["a:1", "b:2"], 1))
    assert (cluster.task_index(), cluster.is_chief()) == (1, False)
    assert cluster.task()["task"] == {"type": "worker", "index": 1}
    monkeypatch.setenv(cluster.ENV_VAR, "")  # set but empty: no cluster
    assert cluster.environment_text() is None and cluster.is_chief()
