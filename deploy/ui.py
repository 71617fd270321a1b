"""The dashboard's files as they go to the dashboard bucket (served by CloudFront).

Layout in the bucket mirrors `make dev` (chalicelib/api/static.py): `index.html` at the root (the
distribution's default root object) and every other file of ui/ under `ui/`, vendor libraries
under `ui/vendor/`. `index.html` gets the API base written into `<meta name="mso-api-base">`;
empty (the default) means same origin, which is right because CloudFront routes /api/* to API
Gateway.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
UI_DIR = ROOT / "ui"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}
# Files keep their names across deploys (no content hashes), so browsers revalidate every time
# (cheap 304s); CloudFront is invalidated after each upload.
CACHE_CONTROL = "no-cache"

_META = re.compile(r"""<meta\b[^>]*\bname\s*=\s*(["'])mso-api-base\1[^>]*>""", re.IGNORECASE)
_CONTENT = re.compile(r"""\bcontent\s*=\s*(["'])(.*?)\1""", re.IGNORECASE | re.DOTALL)
_BASE = re.compile(r"^(https://[A-Za-z0-9.-]+(:\d+)?(/[A-Za-z0-9._~/-]*)?)?$")
_ASSET_REF = re.compile(r"""\b(?:src|href)\s*=\s*["'](/ui/[^"'?#]+)["']""")


def normalize_api_base(base: str) -> str:
    """"" (same origin) or an https URL without a trailing slash; anything else is refused."""
    base = (base or "").strip().rstrip("/")
    if not _BASE.match(base):
        raise ValueError(f"API base must be empty (same origin) or an https:// URL, got {base!r}")
    return base


def set_api_base(page: str, base: str) -> str:
    """index.html with `<meta name="mso-api-base" content="...">` set to `base` (pure)."""
    base = normalize_api_base(base)
    m = _META.search(page)
    if m is None:
        raise ValueError('index.html has no <meta name="mso-api-base"> tag')
    tag = m.group(0)
    value = html.escape(base, quote=True)
    if _CONTENT.search(tag):
        new_tag = _CONTENT.sub(lambda c: f'content="{value}"', tag, count=1)
    else:
        new_tag = re.sub(r"\s*/?>$", f' content="{value}">', tag)
    return page[: m.start()] + new_tag + page[m.end():]


def get_api_base(page: str) -> str | None:
    m = _META.search(page)
    c = _CONTENT.search(m.group(0)) if m else None
    return html.unescape(c.group(2)) if c else None


@dataclass(frozen=True)
class UiFile:
    path: Path
    key: str
    content_type: str


def ui_files(ui_dir: Path = UI_DIR) -> list[UiFile]:
    """Every file to upload, with its bucket key; dotfiles (e.g. vendor/.installed) are skipped."""
    out: list[UiFile] = []
    for path in sorted(p for p in ui_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(ui_dir).as_posix()
        if any(part.startswith(".") for part in rel.split("/")):
            continue
        key = "index.html" if rel == "index.html" else f"ui/{rel}"
        out.append(UiFile(path, key, CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")))
    return out


def missing_assets(page: str, files: list[UiFile]) -> list[str]:
    """`/ui/...` files index.html references that are not in the upload (e.g. no `make ui-deps`)."""
    keys = {f.key for f in files}
    return sorted({ref for ref in _ASSET_REF.findall(page) if ref.lstrip("/") not in keys})


def iter_objects(files: list[UiFile], api_base: str) -> Iterator[tuple[str, bytes, str]]:
    """(key, body, content type) for each file, index.html with the API base written in."""
    for f in files:
        body = f.path.read_bytes()
        if f.key == "index.html":
            body = set_api_base(body.decode("utf-8"), api_base).encode("utf-8")
        yield f.key, body, f.content_type


def upload(s3: Any, bucket: str, *, api_base: str = "", ui_dir: Path = UI_DIR) -> list[str]:
    """Upload the dashboard to `bucket`; removes objects no longer in ui/. Returns the keys."""
    files = ui_files(ui_dir)
    index = next((f for f in files if f.key == "index.html"), None)
    if index is None:
        raise SystemExit(f"{ui_dir}/index.html is missing")
    missing = missing_assets(index.path.read_text("utf-8"), files)
    if missing:
        raise SystemExit(f"index.html needs {', '.join(missing)}: run `make ui-deps` first")
    keys = []
    for key, body, ctype in iter_objects(files, api_base):
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=ctype, CacheControl=CACHE_CONTROL)
        keys.append(key)
    stale = [k for k in list_keys(s3, bucket) if k not in set(keys)]
    for i in range(0, len(stale), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in stale[i:i + 1000]]})
    return keys


def list_keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return keys
