"""Crafted hostile files, as bytes, for any test that uploads (reuse them: `from tests.hostile.payloads import ...`).

Each builder returns a `Payload`: a file name, its bytes, and what it attacks. Nothing here is
large on disk: the bombs are small files that claim (or expand) to be huge.
"""

from __future__ import annotations

import functools
import io
import pickle
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image


@dataclass(frozen=True)
class Payload:
    name: str
    content: bytes
    attack: str


def png(size: tuple[int, int] = (8, 8), colour: tuple[int, int, int] = (10, 200, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _zip(entries: list[tuple[zipfile.ZipInfo | str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for info, data in entries:
            archive.writestr(info, data)
    return buffer.getvalue()


def _good_classes() -> list[tuple[zipfile.ZipInfo | str, bytes]]:
    return [(f"{name}/{index}.png", png()) for name in ("cat", "dog") for index in range(2)]


def zip_slip() -> Payload:
    return Payload("slip.zip", _zip([*_good_classes(), ("../../evil.png", png())]), "zip-slip: ../../evil.png")


def zip_absolute_path() -> Payload:
    return Payload("absolute.zip", _zip([*_good_classes(), ("/tmp/anchorage-evil.png", png())]),
                   "absolute path entry /tmp/anchorage-evil.png")


def zip_symlink() -> Payload:
    link = zipfile.ZipInfo("cat/link.png")
    link.create_system = 3  # Unix, so the mode bits below mean what they say
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    return Payload("symlink.zip", _zip([*_good_classes(), (link, b"/etc/passwd")]), "symlink entry to /etc/passwd")


@functools.cache
def zip_bomb(expanded_bytes: int = 1_200_000_000) -> Payload:
    """A few-MB zip of zeros that expands past the 1 GiB limit (deflate compresses zeros ~1000:1)."""
    chunk = 64 * 1024 * 1024
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        written = 0
        with archive.open("cat/zeros.png", "w", force_zip64=True) as member:
            zero = bytes(chunk)
            while written < expanded_bytes:
                member.write(zero[:min(chunk, expanded_bytes - written)])
                written += chunk
        for info, data in _good_classes():
            archive.writestr(info, data)
    return Payload("bomb.zip", buffer.getvalue(), f"zip bomb expanding to {expanded_bytes:,} bytes")


def zip_bomb_lying_header() -> Payload:
    """A zip whose central directory claims a small size for a member that inflates to 50 MB."""
    zeros = bytes(50 * 1024 * 1024)
    data = bytearray(_zip([*_good_classes(), ("dog/huge.png", zeros)]))
    needle = b"dog/huge.png"
    for offset in _all_offsets(bytes(data), needle):
        if data[offset - 46:offset - 42] == b"PK\x01\x02":  # central directory: uncompressed size at +24
            struct.pack_into("<I", data, offset - 46 + 24, 1024)
        elif data[offset - 30:offset - 26] == b"PK\x03\x04":  # local header: uncompressed size at +22
            struct.pack_into("<I", data, offset - 30 + 22, 1024)
    return Payload("lying-bomb.zip", bytes(data), "zip member that lies about its size (1 KiB claimed, 50 MB real)")


def _all_offsets(data: bytes, needle: bytes) -> list[int]:
    found, start = [], 0
    while (index := data.find(needle, start)) != -1:
        found.append(index)
        start = index + 1
    return found


def nested_zip() -> Payload:
    inner = zip_bomb(100_000_000).content
    return Payload("nested.zip", _zip([*_good_classes(), ("cat/inner.zip", inner), ("dog/inner.png", inner)]),
                   "nested zip (a bomb inside, also renamed .png)")


def many_files_zip(count: int = 50_001) -> Payload:
    return Payload("many.zip", _zip([(f"cat/{index}.png", b"") for index in range(count)],
                                    compression=zipfile.ZIP_STORED), f"{count:,} entries (over the file limit)")


def decompression_bomb_png(side: int = 30_000) -> bytes:
    """A valid PNG of side × side pixels that compresses to a few hundred kB (PIL's bomb check)."""
    width = height = side
    raw_row = b"\x00" + bytes(width)  # filter byte + one grey byte per pixel
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(raw_row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def huge_dimension_png_header() -> bytes:
    """Only a header: IHDR claims 100000 × 100000 pixels, with a tiny truncated IDAT."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))


def image_zip(name: str, image: bytes, attack: str) -> Payload:
    return Payload(name, _zip([*_good_classes(), ("dog/hostile.png", image)]), attack)


def truncated_png() -> bytes:
    return png((64, 64))[:60]


def not_an_image() -> bytes:
    return b"#!/bin/sh\necho this is not a picture\n"


def image_payloads() -> list[Payload]:
    return [
        image_zip("pixel-bomb.zip", decompression_bomb_png(), "decompression-bomb PNG (30000 × 30000)"),
        image_zip("huge-header.zip", huge_dimension_png_header(), "PNG header claiming 100000 × 100000"),
        image_zip("truncated.zip", truncated_png(), "truncated PNG"),
        image_zip("renamed.zip", not_an_image(), "shell script renamed .png"),
    ]


def dataset_payloads() -> list[Payload]:
    """Every hostile dataset archive (the slow-to-build bomb included)."""
    return [zip_slip(), zip_absolute_path(), zip_symlink(), zip_bomb(), zip_bomb_lying_header(), nested_zip(),
            *image_payloads(), Payload("not-a-zip.zip", png(), "a PNG renamed .zip"),
            Payload("empty.zip", b"", "an empty file")]


class _WritesMarker:
    """Unpickling this calls `open(marker, "w").write(...)`: proof of code execution if the file appears."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


def pickle_checkpoint(marker: Path) -> Payload:
    """A .pt that would write `marker` if anything unpickled it without weights_only."""
    import torch

    buffer = io.BytesIO()
    torch.save({"state_dict": {"weight": torch.zeros(2)}, "payload": _WritesMarker(marker)}, buffer)
    return Payload("evil.pt", buffer.getvalue(), "pickle payload in a torch checkpoint")


def raw_pickle_checkpoint(marker: Path) -> Payload:
    return Payload("evil-raw.pt", pickle.dumps(_WritesMarker(marker)), "bare pickle payload renamed .pt")


def wrong_shape_safetensors() -> Payload:
    """A real safetensors file whose tensors have nothing to do with any open_clip architecture."""
    import torch
    from safetensors.torch import save

    return Payload("wrong-shapes.safetensors",
                   save({"visual.conv1.weight": torch.zeros(3, 3), "text_projection": torch.zeros(7)}),
                   "safetensors with wrong tensor shapes")


def garbage_checkpoint() -> Payload:
    return Payload("garbage.safetensors", b"\xff" * 512, "random bytes named .safetensors")


def checkpoint_payloads(marker: Path) -> list[Payload]:
    return [pickle_checkpoint(marker), raw_pickle_checkpoint(marker), wrong_shape_safetensors(), garbage_checkpoint(),
            Payload("picture.pt", png(), "a PNG renamed .pt")]
