"""Servers for the remote tier, all on 127.0.0.1 and started here: moto (S3) and HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.http_server import ModelServer
from tests.support.s3_server import FAKE_CREDENTIALS, LoggedMotoServer, client, upload_tree

MODELS = Path(__file__).resolve().parents[1] / "fixtures" / "models"
BUCKET = "registry"
#: The fixture models uploaded to s3://registry/models/.
MODEL_NAMES = (
    "module_multi_signature",
    "module_one_signature",
    "variables_sharded",
    "serving_base",
    "tf1_pbtxt",
)

# No real credentials, profile or instance metadata are ever looked up.
os.environ.update(FAKE_CREDENTIALS)
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


@pytest.fixture(scope="session")
def moto() -> Iterator[LoggedMotoServer]:
    server = LoggedMotoServer()
    server.start()
    s3 = client(server)
    s3.create_bucket(Bucket=BUCKET)
    for name in MODEL_NAMES:
        upload_tree(s3, BUCKET, f"models/{name}", MODELS / name)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def s3_options(moto: LoggedMotoServer) -> dict[str, object]:
    return moto.storage_options()


@pytest.fixture()
def http_models() -> Iterator[ModelServer]:
    with ModelServer(MODELS) as server:
        yield server
