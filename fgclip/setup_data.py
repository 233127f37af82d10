"""Install the WordNet 3.0 database for NLTK without ``nltk.download``.

NLTK's own downloader needs a host that is not reachable on many compute nodes (and on the
machines this project is developed on). Debian's ``wordnet-base`` and ``wordnet-sense-index``
packages hold the same WordNet 3.0 ``dict`` files, and Debian's package mirrors are reachable
wherever ``apt-get`` works, so this module fetches those two packages with ``apt-get download``
(no root, no system-wide install), unpacks them in pure Python and lays the files out as
``<target>/corpora/wordnet/``, the layout NLTK's reader expects.

Debian leaves out ``lexnames``, the table of the 45 lexicographer files; NLTK cannot open the
database without it, so it is written from the table in the lexnames(5WN) manual page.

A machine that already has WordNet for NLTK (fetched by NLTK's own downloader where its server
is reachable, or by a previous run of this module) is left alone.
"""

from __future__ import annotations

import io
import lzma
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

DEBIAN_PACKAGES = ("wordnet-base", "wordnet-sense-index")

# File number order is significant: each synset line in data.* refers to its file by number.
LEXICOGRAPHER_FILES = (
    "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact",
    "noun.attribute", "noun.body", "noun.cognition", "noun.communication", "noun.event",
    "noun.feeling", "noun.food", "noun.group", "noun.location", "noun.motive", "noun.object",
    "noun.person", "noun.phenomenon", "noun.plant", "noun.possession", "noun.process",
    "noun.quantity", "noun.relation", "noun.shape", "noun.state", "noun.substance", "noun.time",
    "verb.body", "verb.change", "verb.cognition", "verb.communication", "verb.competition",
    "verb.consumption", "verb.contact", "verb.creation", "verb.emotion", "verb.motion",
    "verb.perception", "verb.possession", "verb.social", "verb.stative", "verb.weather", "adj.ppl",
)
_SYNTACTIC_CATEGORY = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}

# The files NLTK's WordNetCorpusReader opens; their presence means the install is complete.
REQUIRED_FILES = (
    "lexnames", "index.noun", "index.verb", "index.adj", "index.adv", "data.noun", "data.verb",
    "data.adj", "data.adv", "noun.exc", "verb.exc", "adj.exc", "adv.exc", "index.sense",
    "cntlist.rev",
)


def default_target() -> Path:
    """``<venv>/nltk_data``: NLTK searches ``sys.prefix/nltk_data`` without any configuration."""
    return Path(sys.prefix) / "nltk_data"


def lexnames_text() -> str:
    lines = []
    for number, name in enumerate(LEXICOGRAPHER_FILES):
        category = _SYNTACTIC_CATEGORY[name.split(".")[0]]
        lines.append(f"{number:02d}\t{name}\t{category}\n")
    return "".join(lines)


def is_installed(wordnet_dir: Path) -> bool:
    return all((wordnet_dir / name).is_file() for name in REQUIRED_FILES)


def _ar_members(data: bytes):
    """Yield (name, bytes) of a Unix ``ar`` archive, the container format of a ``.deb``."""
    if not data.startswith(b"!<arch>\n"):
        raise ValueError("not a Debian package (missing ar magic)")
    offset = 8
    while offset + 60 <= len(data):
        header = data[offset:offset + 60]
        name = header[:16].decode("ascii").strip().rstrip("/")
        size = int(header[48:58].decode("ascii").strip())
        start = offset + 60
        yield name, data[start:start + size]
        offset = start + size + (size % 2)  # members are 2-byte aligned


def extract_wordnet_dict(deb_path: Path, wordnet_dir: Path) -> list[str]:
    """Copy the files under ``usr/share/wordnet/`` of one ``.deb`` into ``wordnet_dir``."""
    written = []
    for name, payload in _ar_members(deb_path.read_bytes()):
        if not name.startswith("data.tar"):
            continue
        if name.endswith(".xz"):
            payload = lzma.decompress(payload)
            mode = "r:"
        else:
            mode = "r:*"
        with tarfile.open(fileobj=io.BytesIO(payload), mode=mode) as tar:
            for member in tar.getmembers():
                parts = Path(member.name).parts
                if not member.isfile() or "wordnet" not in parts[:-1] or parts[-3:-1] != ("share", "wordnet"):
                    continue
                target = wordnet_dir / parts[-1]
                tmp = target.with_name(target.name + ".tmp")
                with tar.extractfile(member) as src, open(tmp, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                os.replace(tmp, target)
                written.append(parts[-1])
    return written


def download_debs(workdir: Path) -> list[Path]:
    if shutil.which("apt-get") is None:
        raise RuntimeError(
            "apt-get is not available to fetch Debian's wordnet packages: pass the two .deb files "
            "with --deb FILE, or install the 'wordnet' corpus with NLTK's downloader where its "
            "server is reachable"
        )
    proc = subprocess.run(
        ["apt-get", "download", *DEBIAN_PACKAGES], cwd=workdir, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(
            "apt-get download " + " ".join(DEBIAN_PACKAGES) + " failed (run `apt-get update` once "
            "if the package lists are empty):\n" + proc.stderr.strip()
        )
    return sorted(workdir.glob("*.deb"))


def install_wordnet(target: Path | None = None, debs: list[Path] | None = None) -> Path:
    """Install WordNet into ``target/corpora/wordnet`` and return that folder (idempotent)."""
    target = Path(target) if target else default_target()
    wordnet_dir = target / "corpora" / "wordnet"
    if is_installed(wordnet_dir):
        return wordnet_dir
    wordnet_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        deb_files = [Path(p) for p in debs] if debs else download_debs(Path(tmp))
        for deb in deb_files:
            extract_wordnet_dict(deb, wordnet_dir)
    (wordnet_dir / "lexnames").write_text(lexnames_text())
    missing = [name for name in REQUIRED_FILES if not (wordnet_dir / name).is_file()]
    if missing:
        raise RuntimeError(f"WordNet install in {wordnet_dir} is incomplete, missing: {', '.join(missing)}")
    return wordnet_dir
