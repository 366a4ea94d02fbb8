"""Dataset releases: numbered, immutable zips of checked line pairs in tesstrain's layout,
and a contributor's own document in the same layout.

- `selection`: which lines, their text and provenance, the split by document;
- `layout`: the zip's files (a contract: training reads it);
- `describe`: README.md and htr-united.yml;
- `build`: `create_release` and the `build_release` job;
- `own`: `document_pairs_zip` for a document's owner.
"""

from labeling.releases.build import (
    build_release,
    check_request,
    create_release,
    sweep,
    write_release,
)
from labeling.releases.own import document_pairs_zip
from labeling.releases.selection import ReleaseRefused, eligible_documents, split_documents

__all__ = [
    "ReleaseRefused",
    "build_release",
    "check_request",
    "create_release",
    "document_pairs_zip",
    "eligible_documents",
    "split_documents",
    "sweep",
    "write_release",
]
