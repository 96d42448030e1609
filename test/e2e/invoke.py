# Driver of `make invoke FRAMEWORK=X SCRIPT=path EVENT=file.json`: starts a local S3 server, uploads the script and
# the sample data, starts the function (RIE + awslambdaric + handler in the Lambda sandbox), invokes it N times
# (cold, then warm) through the Runtime API and prints each result and the timings. ${BUCKET} in the event file is
# replaced by the local bucket's name. Exit status 1 if any invocation failed.
import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lambda_harness as h  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--framework", required=True, choices=["DELTA", "HUDI", "ICEBERG"])
    ap.add_argument("--script", default=h.SAMPLE_SCRIPT)
    ap.add_argument("--event", default=os.path.join(h.ROOT, "test", "e2e", "events", "sample.json"))
    ap.add_argument("--memory", type=int, default=3008, help="function memory in MiB")
    ap.add_argument("--times", type=int, default=2, help="invocations (the first is cold)")
    ap.add_argument("--log-dir", default=None)
    args = ap.parse_args()

    with open(args.event) as f:
        event = json.loads(f.read().replace("${BUCKET}", h.BUCKET))
    log_dir = args.log_dir or tempfile.mkdtemp(prefix="invoke-")
    os.makedirs(log_dir, exist_ok=True)
    failed = False
    timings = []
    with h.S3Server(log_dir) as s3:
        h.prepare_bucket(s3, os.path.abspath(args.script))
        with h.LambdaFunction(args.framework, h.function_env(args.framework, s3), log_dir,
                              memory=args.memory, name=f"invoke-{args.framework.lower()}") as fn:
            for i in range(args.times):
                kind = "cold" if i == 0 else "warm"
                h.progress(f"invocation {i + 1}/{args.times} ({kind}) ...")
                r = fn.invoke(event)
                timings.append((kind, r.seconds, r))
                print(f"--- invocation {i + 1} ({kind}): {'FAILED' if r.failed else 'succeeded'} in {r.seconds:.1f} s")
                print(json.dumps(r.payload, indent=2) if not isinstance(r.payload, str) else r.payload)
                if r.failed:
                    failed = True
                    print(f"--- function log (last lines of {fn.log_path}):\n{fn.log_tail()}", file=sys.stderr)
    print("--- timings (reported, not asserted):")
    for kind, secs, r in timings:
        spark = (r.payload or {}).get("spark", {}) if isinstance(r.payload, dict) else {}
        extra = f", spark startup {spark.get('startup_s')} s, jvm pid {spark.get('jvm_pid')}, " \
                f"new jvm: {spark.get('new_jvm')}" if spark else ""
        print(f"{kind}: {secs:.1f} s{extra}")
    print(f"logs: {log_dir}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
