"""junit_counts.py FILE [MISSING_FAILED]: prints "PASSED FAILED" of a JUnit XML report.

A skipped test was not tested: it counts as failed. A missing or unreadable report
prints "0 MISSING_FAILED" (default 1), so a run that wrote no report never passes.
"""

import sys
import xml.etree.ElementTree as ET

missing_failed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print(0, missing_failed)
    raise SystemExit
suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
total = sum(int(s.get("tests", 0)) for s in suites)
bad = sum(int(s.get(k, 0)) for s in suites for k in ("failures", "errors", "skipped"))
print(total - bad, bad)
