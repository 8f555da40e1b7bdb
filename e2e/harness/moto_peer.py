"""moto server (PyPI `moto[server]`) as the local AWS: STS, IAM, S3 and SageMaker on
127.0.0.1, stopped by PID. With `auth=True`, moto checks signatures against its own IAM, so
a wrong secret or an unknown key gets the refusal real AWS would send."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from .processes import Peer, free_port, missing_peer, wait_for_port


class Moto:
    def __init__(self, peer: Peer, port: int):
        self.peer = peer
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"

    @classmethod
    def start(cls, auth: bool = False, name: str = "moto", env: dict | None = None) -> "Moto":
        binary = Path(sys.executable).parent / "moto_server"
        if not binary.exists():
            missing_peer(f"moto is not installed in {binary.parent} (pip install 'moto[server]')")
        port = free_port()
        env = dict(env or {})
        if auth:
            # The first three calls (create the user, give it a policy, create its key) are
            # let through; every later call is checked against moto's IAM.
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
        peer = Peer(name, [str(binary), "-H", "127.0.0.1", "-p", str(port)], env=env)
        try:
            wait_for_port(port, peer.proc, timeout=30)
        except (RuntimeError, TimeoutError) as e:
            peer.stop()
            missing_peer(f"moto did not start: {e}\n{peer.log()[-2000:]}")
        return cls(peer, port)

    def client(self, service: str, key_id: str = "testing", secret: str = "testing", region: str = "us-east-1"):
        import boto3

        return boto3.client(
            service, endpoint_url=self.endpoint, region_name=region,
            aws_access_key_id=key_id, aws_secret_access_key=secret,
        )

    def create_user_with_key(self, user: str = "ada") -> tuple[str, str]:
        """An IAM user allowed what Loopline does, and its access key: the three calls moto
        lets through unchecked."""
        import json

        iam = self.client("iam")
        iam.create_user(UserName=user)
        policy = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["sts:*", "sagemaker:*", "s3:*", "iam:PassRole"], "Resource": "*"}]}
        iam.put_user_policy(UserName=user, PolicyName="loopline-tests", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=user)["AccessKey"]
        return key["AccessKeyId"], key["SecretAccessKey"]

    def stop(self) -> None:
        self.peer.stop()


def aws_env(endpoint: str, region: str = "eu-west-1") -> dict:
    """This process's environment with AWS pointed at `endpoint` through the SDK's default
    chain, and none of the machine's own AWS settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=endpoint, AWS_REGION=region, AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_EC2_METADATA_DISABLED="true")
    return env
