"""The stage block: saved to and loaded from the real server, turned into a StageConfig."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from blocks import Stage
from oneclick.errors import StageError
from oneclick.home import Home

MANIFEST = {
    "app": "expenses",
    "settings": [
        {"name": "CurrencySymbol", "type": "text", "default": "€"},
        {"name": "ApprovalLimit", "type": "decimal", "default": None},
    ],
    "secrets": ["PaymentsApiKey"],
}


def test_a_saved_stage_loads_back_with_its_secrets_hidden(prefect_server: str) -> None:
    Stage(
        order=7,
        settings={"expenses": {"ApprovalLimit": "10"}},
        secrets={"expenses": {"PaymentsApiKey": "k-123"}},
        requires_approval=True,
    ).save("block-test", overwrite=True)
    loaded = Stage.load("block-test")
    assert isinstance(loaded, Stage)
    assert "k-123" not in repr(loaded)
    config = loaded.to_config("block-test", Home.from_env())
    assert config.order == 7 and config.requires_approval
    env = config.environment(MANIFEST)
    assert env["ONECLICK_SETTING_ApprovalLimit"] == "10"
    assert env["ONECLICK_SECRET_PaymentsApiKey"] == "k-123"
    assert env["ONECLICK_DATABASE_URL"].endswith("/stages/block-test/expenses.db")
    assert "k-123" not in repr(config)


def test_a_stage_lacking_a_setting_or_secret_names_both() -> None:
    config = Stage(settings={"expenses": {}}).to_config("qa", Home.from_env())
    assert config.missing_configuration(MANIFEST) == [
        "setting ApprovalLimit",
        "secret PaymentsApiKey",
    ]
    with pytest.raises(StageError, match="stage 'qa' cannot run expenses: it lacks setting"):
        config.environment(MANIFEST)


def test_a_database_url_names_each_app() -> None:
    block = Stage(database_url=SecretStr("postgresql+psycopg://u:p@127.0.0.1/{app}_qa"))
    config = block.to_config("qa", Home.from_env())
    assert config.database_url_for("expenses") == "postgresql+psycopg://u:p@127.0.0.1/expenses_qa"


def test_a_kubernetes_stage_carries_its_options_and_kubeconfig() -> None:
    block = Stage(
        runtime="kubernetes",
        kubeconfig=SecretStr("apiVersion: v1\nkind: Config\n"),
        kubernetes={"namespace": "qa", "replicas": 3, "progress_deadline": 30},
    )
    config = block.to_config("qa", Home.from_env())
    assert config.runtime == "kubernetes"
    assert config.kubernetes.namespace == "qa" and config.kubernetes.replicas == 3
    assert config.kubernetes.progress_deadline == 30
    assert config.kubernetes.kubeconfig is not None
    assert "kind: Config" not in repr(config)


def test_a_namespace_kubernetes_would_refuse_is_refused_in_the_block() -> None:
    with pytest.raises(ValueError, match="namespace"):
        Stage(runtime="kubernetes", kubernetes={"namespace": "Not_A_Label"})
