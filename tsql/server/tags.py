"""Tags of databases and tables (TagResource, UntagResource, ListTagsForResource).

The engine has no use for tags, so the server keeps them itself: by resource ARN, in
`server-tags.json` in the data directory (rewritten atomically), or in memory.
"""

from __future__ import annotations

import json
import os
import threading

from tsql.errors import ServiceQuotaExceededError, ValidationError
from tsql.storage.catalog import atomic_write

MAX_TAGS = 200
FILE = "server-tags.json"


def check_tags(tags: list[dict]) -> None:
    keys = [t["Key"] for t in tags]
    if len(set(keys)) != len(keys):
        raise ValidationError("Duplicate tag keys are not allowed.")
    for k in keys:
        if k.lower().startswith("aws:"):
            raise ValidationError(f"Tag keys starting with 'aws:' are reserved: '{k}'.")


class TagStore:
    def __init__(self, directory: str | None = None):
        self.path = os.path.join(directory, FILE) if directory is not None else None
        self._tags: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()
        if self.path is not None and os.path.exists(self.path):
            with open(self.path, encoding="utf-8") as f:
                self._tags = json.load(f)

    def list(self, arn: str) -> list[dict]:
        with self._lock:
            return [{"Key": k, "Value": v} for k, v in self._tags.get(arn, {}).items()]

    def replace(self, arn: str, tags: list[dict]) -> None:
        """Set the tags of a resource being created (dropping any a former namesake had)."""
        check_tags(tags)
        with self._lock:
            self._tags.pop(arn, None)
            if tags:
                self._tags[arn] = {t["Key"]: t["Value"] for t in tags}
            self._save()

    def tag(self, arn: str, tags: list[dict]) -> None:
        check_tags(tags)
        with self._lock:
            merged = dict(self._tags.get(arn, {}))
            merged.update({t["Key"]: t["Value"] for t in tags})
            if len(merged) > MAX_TAGS:
                raise ServiceQuotaExceededError(f"A resource can have at most {MAX_TAGS} tags; this would make {len(merged)}.")
            self._tags[arn] = merged
            self._save()

    def untag(self, arn: str, keys: list[str]) -> None:
        with self._lock:
            current = self._tags.get(arn)
            if current is None:
                return
            for k in keys:
                current.pop(k, None)
            if not current:
                del self._tags[arn]
            self._save()

    def drop(self, arn: str) -> None:
        """Forget a deleted resource's tags (for a database, its tables' too)."""
        with self._lock:
            gone = [a for a in self._tags if a == arn or a.startswith(arn + "/table/")]
            for a in gone:
                del self._tags[a]
            if gone:
                self._save()

    def _save(self) -> None:
        if self.path is not None:
            atomic_write(self.path, json.dumps(self._tags, indent=1, sort_keys=True).encode())
