# pytest fixtures for the end-to-end tests: one local S3 server for the session and a pool that keeps ONE warm
# execution environment (function) running at a time, reused by every test that asks for the same configuration.
import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "locallambda"))
import lambda_harness as h  # noqa: E402  (the local Lambda runner, locallambda/)

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scripts")
LOG_DIR = os.path.join(h.ROOT, "test", "out", "e2e")


def pytest_report_header(config):
    return f"e2e logs (S3 server, each function's RIE/handler/Spark output): {LOG_DIR}"


@pytest.fixture(scope="session")
def s3():
    shutil.rmtree(LOG_DIR, ignore_errors=True)
    os.makedirs(LOG_DIR)
    with h.AwsServer(LOG_DIR) as server:
        yield server


class Function:
    """A running function plus its bucket; `put_script` replaces the object at SPARK_LAMBDA_SCRIPT_KEY (new ETag)."""

    def __init__(self, fn, s3, bucket, framework):
        self.fn, self.s3, self.bucket, self.framework = fn, s3, bucket, framework

    def put_script(self, name=None, source=None):
        if source is None:
            path = h.SAMPLE_SCRIPT if name is None else os.path.join(SCRIPTS, name)
            with open(path, "rb") as f:
                source = f.read()
        self.s3.client().put_object(Bucket=self.bucket, Key=h.SCRIPT_KEY, Body=source)

    def invoke(self, event):
        r = self.fn.invoke(event)
        h.progress(f"{self.fn.name}: {'FAILED' if r.failed else 'ok'} in {r.seconds:.1f} s: {r.raw[:300]}")
        return r

    def sample_event(self, **extra):
        return {"action": "write", "input": f"s3://{self.bucket}/{h.DATA_KEY}", "table": "seattle_weather", **extra}

    def log_tail(self):
        return self.fn.log_tail()


class Pool:
    def __init__(self, s3):
        self.s3 = s3
        self.key = None
        self.current = None
        self.buckets = set()

    def get(self, framework, name, memory=3008, extra_env=None, drop_env=()):
        key = (framework, name, memory, tuple(sorted((extra_env or {}).items())), tuple(drop_env))
        if self.key == key:
            return self.current
        self.close()
        bucket = f"e2e-{name}".lower().replace("_", "-")
        if bucket not in self.buckets:
            h.prepare_bucket(self.s3, h.SAMPLE_SCRIPT, bucket=bucket)
            self.buckets.add(bucket)
        env = h.function_env(framework, self.s3, bucket=bucket)
        env.update(extra_env or {})
        for k in drop_env:
            env.pop(k, None)
        fn = h.LambdaFunction(framework, env, LOG_DIR, memory=memory, name=name)
        fn.__enter__()
        self.key, self.current = key, Function(fn, self.s3, bucket, framework)
        return self.current

    def close(self):
        if self.current is not None:
            self.current.fn.__exit__(None, None, None)
        self.key = self.current = None


@pytest.fixture(scope="session")
def pool(s3):
    p = Pool(s3)
    yield p
    p.close()
