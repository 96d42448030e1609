"""Print checkov's JSON report (`checkov --output json`) for people: every failed check with its resource, then
passed/failed/skipped per template and the skipped check ids per resource. Exits 1 when a check failed."""
import collections
import json
import os
import sys


def main(path):
    with open(path) as f:
        reports = json.load(f)
    if isinstance(reports, dict):
        reports = [reports]
    counts = collections.defaultdict(collections.Counter)
    skips = collections.defaultdict(list)
    failed = 0
    for report in reports:
        results = report.get("results", {})
        for outcome in ("passed", "failed", "skipped"):
            for check in results.get(outcome + "_checks", []):
                template = os.path.basename(check["file_path"])
                counts[template][outcome] += 1
                if outcome == "failed":
                    failed += 1
                    print("FAILED %s %s (%s) in %s" % (check["check_id"], check["resource"], check["check_name"], template))
                if outcome == "skipped":
                    skips[(template, check["resource"])].append(check["check_id"])
    for template in sorted(counts):
        c = counts[template]
        print("checkov: %s: %d passed, %d failed, %d skipped" % (template, c["passed"], c["failed"], c["skipped"]))
    if os.environ.get("CHECKOV_SKIPS"):
        for (template, resource), ids in sorted(skips.items()):
            print("  skipped in %s: %s: %s" % (template, resource, ", ".join(sorted(ids))))
    if not counts:
        print("checkov: no check ran (no template in the report)")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
