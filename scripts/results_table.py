"""Print the README results table from evaluation JSON files: LABEL=PATH[:KEY] ..."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from gan_core.cli import entry_point, script_parser
from gan_core.eval.results_table import markdown_table


@entry_point()  # reads only: nothing to leave half-written
def main(argv=None) -> int:
    parser = script_parser(__doc__)
    parser.add_argument("entries", nargs="+", help="LABEL=PATH, or LABEL=PATH:KEY for one entry of a JSON dict "
                                                   "(e.g. 'retrieval=results/baselines.json:retrieval')")
    args = parser.parse_args(argv)
    rows = []
    for entry in args.entries:
        label, _, spec = entry.partition("=")
        path, _, key = spec.partition(":")
        try:
            data = json.loads(Path(path).read_text())
            rows.append((label, data[key] if key else data))
        except (OSError, ValueError, KeyError) as exc:
            print(f"error: cannot read {spec}: {exc}", file=sys.stderr)
            return 1
    print(markdown_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
