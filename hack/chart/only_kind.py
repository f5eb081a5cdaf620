"""Keeps the YAML documents of one kind from a multi-document stream (stdin to
stdout), comments included, so a rendered chart can be cut without a YAML
library. Documents are separated by lines that are exactly `---`."""

import re
import sys


def main() -> None:
    kind = sys.argv[1]
    documents = re.split(r"^---\n", sys.stdin.read(), flags=re.MULTILINE)
    wanted = [d for d in documents if re.search(rf"^kind: {re.escape(kind)}$", d, re.MULTILINE)]
    for document in wanted:
        sys.stdout.write("---\n" + document)


if __name__ == "__main__":
    main()
