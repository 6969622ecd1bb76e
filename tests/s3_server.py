"""An S3-compatible server on loopback (moto's standalone server) for the tests and `make demo-s3`."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

ACCESS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}


@contextmanager
def s3_server() -> Iterator[str]:
    """Run moto's S3 server on a free port of 127.0.0.1 while the block runs; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not one line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def aws_environment(endpoint: str) -> dict[str, str]:
    """The standard AWS variables that point S3 clients (the raw layer's) at `endpoint`."""
    return {"AWS_ENDPOINT_URL": endpoint, **ACCESS}


def create_bucket(endpoint: str, name: str):
    """Create bucket `name` on the server; returns a boto3 client of it (to list what was written)."""
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=ACCESS["AWS_SECRET_ACCESS_KEY"],
        region_name=ACCESS["AWS_REGION"],
    )
    client.create_bucket(Bucket=name)
    return client


def object_keys(client, bucket: str) -> list[str]:
    """Every object key in a bucket, sorted."""
    keys = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return sorted(keys)
