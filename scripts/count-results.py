#!/usr/bin/env python3
"""Sums meson test logs (*.json, one JSON object per line) and checks.txt in a results dir and
prints the failures (each with the end of its output, so that a CI log that keeps only its
last lines still tells why), then the final line "N passed, N failed". A skipped test counts as
failed: a test that did not run proved nothing."""
import json
import pathlib
import sys

results = pathlib.Path(sys.argv[1])
passed = failed = 0
failures = []
excerpts = []
for log in sorted(results.glob("*.json")):
    for line in log.read_text().splitlines():
        if not line.strip():
            continue
        t = json.loads(line)
        if t.get("result") in ("OK", "EXPECTEDFAIL"):
            passed += 1
        else:
            failed += 1
            failures.append(f"{log.stem}: {t.get('name')} ({t.get('result')})")
            tail = "\n".join(t.get(k) or "" for k in ("stdout", "stderr")).splitlines()[-30:]
            excerpts.append(f"== end of the output of {log.stem}: {t.get('name')}\n"
                            + "\n".join(tail))
checks = results / "checks.txt"
if checks.exists():
    for line in checks.read_text().splitlines():
        status, name = line.split(" ", 1)
        if status == "PASS":
            passed += 1
        else:
            failed += 1
            failures.append(f"check: {name}")
for e in excerpts:
    print(e)
for f in failures:
    print("FAILED", f)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
