"""Function code uploaded through the Lambda API: checked, unpacked, kept.

A deployment package (``Code.ZipFile``) is checked as Lambda checks it before anything is
written: a zip at all, at most 50 MB zipped (``CodeSize``) and 250 MB unpacked, no entry whose
path leaves the package (``../``, absolute paths). It is then unpacked into a directory named
after its digest, ``<root>/{account}/{region}/{name}/{sha256 hex}``, beside the zip itself
(``<digest dir>.zip``, what ``GetFunction``'s ``Code.Location`` serves): a new upload never
touches the directory a running worker reads, and the same package uploaded twice is unpacked
once. ``CodeSha256`` is the base64 of the zip's SHA-256, as Lambda gives it.

Unpacking writes into a temporary directory renamed into place, so a failure leaves nothing
behind. Unix permissions stored in the zip are kept (a custom runtime's ``bootstrap`` must stay
executable).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from propylon.functions.lambda_api.errors import (
    InvalidParameterValueException,
    RequestTooLargeException,
)

MAX_ZIPPED = 50 * 1024 * 1024
MAX_UNZIPPED = 250 * 1024 * 1024
UNZIP_FAILED = "Could not unzip uploaded file. Please check your file, then try to upload again."


@dataclass(frozen=True)
class Package:
    """Unpacked code: where it is, and what Lambda reports of it."""

    directory: Path
    sha256: str
    """Base64 of the zip's SHA-256 digest (``CodeSha256``)."""
    size: int
    """The zip's size in bytes (``CodeSize``)."""

    @property
    def zip_path(self) -> Path:
        return self.directory.with_suffix(".zip")


class CodeStore:
    """The unpacked code of every function created through the Lambda API."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def unpack(self, account: str, region: str, name: str, data: bytes) -> Package:
        """Check and unpack ``data``; the Lambda API's error when it is not a package."""
        if len(data) > MAX_ZIPPED:
            raise RequestTooLargeException(
                f"Request must be smaller than {MAX_ZIPPED} bytes for the CreateFunction operation"
            )
        digest = hashlib.sha256(data).digest()
        package = Package(
            self.root / account / region / name / digest.hex(),
            base64.b64encode(digest).decode(),
            len(data),
        )
        if package.directory.is_dir():
            return package
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, ValueError):
            raise InvalidParameterValueException(UNZIP_FAILED) from None
        with archive:
            _check(archive)
            package.directory.parent.mkdir(parents=True, exist_ok=True)
            scratch = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=package.directory.parent))
            try:
                _extract(archive, scratch)
                package.zip_path.write_bytes(data)
                os.replace(scratch, package.directory)
            except BaseException:
                shutil.rmtree(scratch, ignore_errors=True)
                raise
        return package

    def clear(self) -> None:
        """Delete every function's code (the state was wiped)."""
        if self.root.is_dir():
            for entry in self.root.iterdir():
                shutil.rmtree(entry, ignore_errors=True)

    def remove(self, account: str, region: str, name: str, keep: Path | None = None) -> None:
        """Delete a function's code: all of it, or all but the package at ``keep``."""
        directory = self.root / account / region / name
        if not directory.is_dir():
            return
        for entry in directory.iterdir():
            if keep is not None and entry in (keep, keep.with_suffix(".zip")):
                continue
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
        if keep is None:
            shutil.rmtree(directory, ignore_errors=True)


def _check(archive: zipfile.ZipFile) -> None:
    total = 0
    try:
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError):
        raise InvalidParameterValueException(UNZIP_FAILED) from None
    for info in infos:
        path = PurePosixPath(info.filename.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts:
            raise InvalidParameterValueException(UNZIP_FAILED)
        total += info.file_size
    if total > MAX_UNZIPPED:
        raise InvalidParameterValueException(
            f"Unzipped size must be smaller than {MAX_UNZIPPED} bytes"
        )


def _extract(archive: zipfile.ZipFile, target: Path) -> None:
    try:
        for info in archive.infolist():
            path = Path(archive.extract(info, target))
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                path.chmod(mode | stat.S_IRUSR)
    except (zipfile.BadZipFile, ValueError, EOFError, zlib.error):
        raise InvalidParameterValueException(UNZIP_FAILED) from None
