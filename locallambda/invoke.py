# Driver of `make invoke FRAMEWORK=X [SCRIPT=path] [EVENT=file.json] [DATA="a.csv b.csv"] [COORDINATION=none]`: runs
# a script as Lambda would, locally. Starts moto's server (S3, DynamoDB, Glue on 127.0.0.1), uploads the script and
# each data file (to s3://${BUCKET}/data/<basename>; default: the sample CSV), creates the commit-coordination table,
# starts the function's execution environments (RIE + awslambdaric + the handler in the Lambda sandbox) and invokes
# them through the Runtime API.
#
# The event file is either one event, invoked --times times on one environment (cold, then warm), or
#   {"rounds": [[e1, e2, e3, e4], [e5]]}
# where each round's events run at the same time, one per execution environment: environment i serves the i-th event
# of every round (its first invocation is its cold start), against one S3/DynamoDB/Glue state for the whole command.
# ${BUCKET} anywhere in the file is replaced by the local bucket's name. Prints each result and the timings, and as
# the last line `invoke-summary: <json>` with "invocations", "failed" and "results" (one entry per invocation, in
# order: "round", "environment", "status", "seconds", "result", plus "error" / "batchItemFailures" /
# "commit_conflicts" where there are some). A timed-out invocation counts as failed. Exit status 1 if any failed.
import argparse
import json
import os
import sys
import tempfile
from contextlib import ExitStack

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lambda_harness as h  # noqa: E402


def load_rounds(path, times):
    with open(path) as f:
        doc = json.loads(f.read().replace("${BUCKET}", h.BUCKET))
    if isinstance(doc, dict) and set(doc) == {"rounds"}:
        rounds = doc["rounds"]
        if not isinstance(rounds, list) or not rounds or not all(isinstance(r, list) and r for r in rounds):
            raise SystemExit(f'{path}: "rounds" must be a non-empty list of non-empty lists of events')
        return rounds
    return [[doc] for _ in range(times)]


def main():
    ap = argparse.ArgumentParser(description="Run a PySpark script as AWS Lambda would, locally.")
    ap.add_argument("--framework", required=True, choices=["DELTA", "HUDI", "ICEBERG"])
    ap.add_argument("--script", default=h.SAMPLE_SCRIPT)
    ap.add_argument("--event", default=os.path.join(h.ROOT, "test", "e2e", "events", "sample.json"))
    ap.add_argument("--data", default="", help="space-separated files uploaded to s3://BUCKET/data/<basename>")
    ap.add_argument("--memory", type=int, default=3008, help="function memory in MiB")
    ap.add_argument("--timeout", type=int, default=900, help="function timeout in seconds")
    ap.add_argument("--times", type=int, default=2, help="invocations of a single event (the first is cold)")
    ap.add_argument("--coordination", default="dynamodb", choices=["dynamodb", "none"],
                    help="commit coordination of concurrent writers (none: the construct's single-writer opt-out)")
    ap.add_argument("--log-dir", default=None)
    args = ap.parse_args()

    rounds = load_rounds(args.event, args.times)
    data = [os.path.abspath(p) for p in args.data.split()] or None
    for p in data or []:
        if not os.path.isfile(p):
            raise SystemExit(f"DATA file {p} does not exist")
    log_dir = args.log_dir or tempfile.mkdtemp(prefix="invoke-")
    os.makedirs(log_dir, exist_ok=True)
    environments = max(len(r) for r in rounds)

    def show(entry):
        r = entry["invoke"]
        kind = "cold" if entry["cold"] else "warm"
        print(f"--- round {entry['round']}, environment {entry['environment']} ({kind}): "
              f"{'FAILED' if r.failed else 'succeeded'} in {r.seconds:.1f} s")
        print(json.dumps(r.payload, indent=2) if not isinstance(r.payload, str) else r.payload, flush=True)

    with h.AwsServer(log_dir) as server, ExitStack() as stack:
        h.prepare_bucket(server, os.path.abspath(args.script), data_paths=data)
        env = h.function_env(args.framework, server, coordination=args.coordination)
        functions = [stack.enter_context(h.LambdaFunction(
            args.framework, env, log_dir, memory=args.memory, timeout=args.timeout,
            name=f"invoke-{args.framework.lower()}-{i + 1}")) for i in range(environments)]
        entries = h.run_rounds(functions, rounds, on_result=show)
        for e in entries:
            if e["status"] == "FAILED":
                fn = functions[e["environment"] - 1]
                print(f"--- function log (last lines of {fn.log_path}):\n{fn.log_tail()}", file=sys.stderr)
                break
    print("--- timings (reported, not asserted):")
    for e in entries:
        spark = (e["invoke"].payload or {}).get("spark", {}) if isinstance(e["invoke"].payload, dict) else {}
        extra = f", spark startup {spark.get('startup_s')} s, jvm pid {spark.get('jvm_pid')}, " \
                f"new jvm: {spark.get('new_jvm')}" if spark else ""
        print(f"round {e['round']} env {e['environment']} ({'cold' if e['cold'] else 'warm'}): "
              f"{e['seconds']:.1f} s{extra}")
    print(f"logs: {log_dir}")
    summary = h.summary(entries)
    print("invoke-summary: " + json.dumps(summary, default=str))
    return 1 if summary["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
