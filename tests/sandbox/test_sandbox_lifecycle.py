"""Create → RUNNING → list → scale → delete → 404, over real HTTP against the sandbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sbhelpers import MU_BODY, PTU_BODY

from modeldeck.provider import ModelStudioClient, ProviderNotFound
from modeldeck.sandbox.testing import RunningSandbox


def test_mu_lifecycle(sb: RunningSandbox, client: ModelStudioClient) -> None:
    created = client.create_deployment(MU_BODY)
    assert created.status == "PENDING"
    assert created.deployed_model == "qwen3-32b"
    assert created.capacity == 2 and created.ready_capacity == 0
    assert created.request_id
    assert created.gmt_create is not None and created.gmt_create.utcoffset() == timedelta(hours=8)

    running = sb.wait_for_status(client, created.deployed_model, "RUNNING")
    assert running is not None and running.ready_capacity == 2

    page = client.list_deployments()
    assert page.total == 1 and [d.deployed_model for d in page.deployments] == ["qwen3-32b"]

    scaled = client.scale_deployment("qwen3-32b", capacity=4)
    assert scaled.status == "UPDATING"
    assert scaled.capacity == 4 and scaled.ready_capacity == 2
    after = sb.wait_for_status(client, "qwen3-32b", "RUNNING")
    assert after is not None and after.ready_capacity == 4

    deleted = client.delete_deployment("qwen3-32b")
    assert deleted.status == "DELETING"
    assert sb.wait_for_status(client, "qwen3-32b", None) is None
    with pytest.raises(ProviderNotFound) as info:
        client.get_deployment("qwen3-32b")
    assert info.value.message == "Model: qwen3-32b not found!"
    assert info.value.status_code == 404 and info.value.code == "NotFound"
    assert client.list_deployments().total == 0


def test_ptu_scale_changes_tpm(sb: RunningSandbox, client: ModelStudioClient) -> None:
    created = client.create_deployment(PTU_BODY)
    assert created.ptu_capacity is not None and created.ptu_capacity.input_tpm == 10000
    sb.wait_for_status(client, created.deployed_model, "RUNNING")
    scaled = client.scale_deployment(
        created.deployed_model, ptu_capacity={"input_tpm": 20000, "output_tpm": 2000}
    )
    assert scaled.status == "UPDATING"
    assert scaled.ptu_capacity is not None
    assert (scaled.ptu_capacity.input_tpm, scaled.ptu_capacity.output_tpm) == (20000, 2000)
