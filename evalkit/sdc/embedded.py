"""Data URIs in what a run publishes, for the privacy gate (`evalkit.sdc.gate`): an embedded
raster image is skipped (its pixels cannot be read; a chart's labels were checked as it was
drawn, `evalkit.sdc.labels`), only when its bytes begin as an image's and only up to its first
character outside base64; any other data URI (a CSV behind a download link, an SVG with its
labels, percent-encoded text), whatever its media type, parameters, case or encoding, is one
the gate cannot read, so a finding. In a run, an embedded image passes only with the mark
`evalkit.report.style.show` gives each chart it drew (`chart_mark`, under the run's key): no
one checked any other image's labels."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from collections.abc import Iterable

#: An embedded raster image (base64, unwrapped); what follows its payload is read.
DATA_URI = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,([A-Za-z0-9+/]+=*)")
#: What an embedded image is read as: not a space, which would join an unquoted attribute to
#: the next one in HTML, nor anything a data URI could be read in.
IMAGE_MARK = "[image]"
#: How the images' bytes begin (PNG, JPEG, GIF, WebP's RIFF; WebP's own mark is checked too).
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"RIFF")
#: Any data URI: its media type and parameters (group 1), then its payload (group 2).
ANY_DATA_URI = re.compile(r"(?<![\w.-])data:([^\s,<>\"'()]*),([^\s<>\"'()]*)", re.IGNORECASE)
DATA_MARK = "[data]"  # what a message's data URI is written as (`without_data`)
#: The key (hex) `evalkit run` gives its notebooks, under which `evalkit.report.style.show` marks
#: each chart it drew (its labels checked), so the gate can tell them from any other image.
CHART_KEY_ENV = "EVALKIT_CHART_KEY"
#: The mark `style.show` gives an `<img>` (any place among its attributes: nbconvert sorts them).
MARK = re.compile(r'data-evalkit-chart="([0-9a-f]{64})"')


def is_image(payload: str) -> bool:
    """Whether a base64 payload's bytes begin as an image's (IMAGE_MAGIC), not text's."""
    head = base64.b64decode(payload[:len(payload[:16]) // 4 * 4])  # whole 4-character groups
    return head.startswith(IMAGE_MAGIC) and (not head.startswith(b"RIFF") or head[8:12] == b"WEBP")


def without_images(text: str) -> str:
    """`text` with each embedded raster image (DATA_URI, its bytes an image's) replaced by
    IMAGE_MARK."""
    if "base64," not in text:
        return text
    return DATA_URI.sub(lambda m: IMAGE_MARK if is_image(m.group(1)) else m.group(), text)


def unreadable(text: str) -> list[str]:
    """The media type and parameters of each data URI in `text` other than a raster image."""
    if ":" not in text:  # most texts the gate reads (a data URI's scheme ends with one)
        return []
    return [m.group(1) for m in ANY_DATA_URI.finditer(without_images(text))]


def without_data(text: str) -> str:
    """`text` with each raster image as IMAGE_MARK and every other data URI, payload included,
    as DATA_MARK: what a message (a cell's error, a warning) may say of embedded data."""
    return ANY_DATA_URI.sub(DATA_MARK, without_images(text))


def chart_key() -> bytes | None:
    """The run's chart key (CHART_KEY_ENV), or None outside `evalkit run`."""
    key = os.environ.get(CHART_KEY_ENV)
    return bytes.fromhex(key) if key else None


def run_key(checksums: Iterable[str]) -> bytes:
    """A run's chart key, from its input files' checksums: the same data give the same marks,
    so a report made again is the same file."""
    return hashlib.sha256("\n".join(["evalkit chart marks", *sorted(checksums)]).encode()).digest()


def chart_mark(payload: str, key: bytes) -> str:
    """A chart's mark: the HMAC-SHA256 of its base64 payload under the run's key."""
    return hmac.new(key, payload.encode("ascii"), hashlib.sha256).hexdigest()


def unmarked_images(markup: str, key: bytes) -> int:
    """How many embedded raster images in `markup` are in no tag that has their mark under
    `key` (`chart_mark`). One pass: each tag's bounds and marks are found once."""
    if "base64," not in markup:
        return 0
    unmarked, end, marks = 0, -1, set()
    for m in DATA_URI.finditer(markup):
        if not is_image(m.group(1)):
            continue
        if m.start() > end:  # past the last tag: find this image's tag
            lt = markup.rfind("<", end + 1, m.start())
            start = lt if lt >= 0 else end  # in text, not a tag: only its own text is read
            end = markup.find(">", m.end())
            end = len(markup) if end < 0 else end
            marks = set(MARK.findall(markup, start + 1, end))
        mark = chart_mark(m.group(1), key)
        unmarked += not any(hmac.compare_digest(found, mark) for found in marks)
    return unmarked
