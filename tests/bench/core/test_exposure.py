"""Which servers a run opens beyond loopback (a TF_CONFIG cluster's own port; none without a cluster
or with one worker), and the one WARNING line naming the ports, the interfaces and what it means."""

import json
import os

import pytest

from bench.core import exposure
from bench.core.errors import ConfigError

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _tf_config(cluster, kind, index):
    return json.dumps({"cluster": cluster, "task": {"type": kind, "index": index}})


def test_a_cluster_of_several_workers_opens_this_tasks_own_port():
    cluster = {"chief": ["host0:2000"], "worker": ["host1:2221", "[::1]:2222"]}
    assert exposure.cluster_ports(_tf_config(cluster, "worker", 1)) == [2222]
    assert exposure.cluster_ports(_tf_config(cluster, "worker", 0)) == [2221]
    assert exposure.cluster_ports(_tf_config(cluster, "chief", 0)) == [2000]


def test_no_cluster_or_a_cluster_of_one_worker_opens_nothing():
    one = _tf_config({"worker": ["host1:2222"]}, "worker", 0)
    for tf_config in (None, "", one):
        assert exposure.cluster_ports(tf_config) == []
        assert exposure.cluster_warning(tf_config) is None


def test_a_malformed_cluster_is_refused_not_ignored():
    with pytest.raises(ConfigError, match="TF_CONFIG"):
        exposure.cluster_ports('{"cluster": 3}')


def test_the_warning_is_one_line_naming_the_ports_the_interfaces_and_what_it_means():
    line = exposure.cluster_warning(_tf_config({"worker": ["host1:2222", "host2:2223"]}, "worker", 1))
    local = exposure.local_workers_warning([41234, 41235], "unshare: unshare failed: Operation not permitted")
    for text in (line, local):
        assert "\n" not in text and text.startswith("WARNING: ")
        assert "every network interface (0.0.0.0 and [::])" in text
        assert "no authentication" in text and "trusted network" in text
    assert " listens on port 2223 of " in line and "2222" not in line
    assert " listen on ports 41234, 41235 of " in local
    assert "(not confined to this machine: unshare: unshare failed: Operation not permitted)" in local


def test_the_warning_points_at_a_security_section_that_exists():
    page, _, anchor = exposure.SECURITY_DOC.partition("#")
    with open(os.path.join(REPO_ROOT, page), encoding="utf-8") as stream:
        headings = [line[3:].strip().lower() for line in stream if line.startswith("## ")]
    assert anchor in headings
