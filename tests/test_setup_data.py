"""The offline WordNet installer, on a hand-built Debian package (no network, no apt)."""

import io
import lzma
import tarfile

import pytest

from fgclip import setup_data


def _deb(members: dict[str, bytes]) -> bytes:
    """A minimal .deb: an ar archive holding debian-binary and data.tar.xz."""
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w") as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    parts = [("debian-binary", b"2.0\n"), ("data.tar.xz", lzma.compress(tar_bytes.getvalue()))]
    out = bytearray(b"!<arch>\n")
    for name, payload in parts:
        header = f"{name + '/':<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(payload):<10}`\n"
        out += header.encode("ascii") + payload + (b"\n" if len(payload) % 2 else b"")
    return bytes(out)


def test_lexnames_table_has_the_45_files_in_order():
    lines = setup_data.lexnames_text().splitlines()
    assert len(lines) == 45
    assert lines[0] == "00\tadj.all\t3"
    assert lines[5] == "05\tnoun.animal\t1"
    assert lines[44] == "44\tadj.ppl\t3"


def test_install_from_debs_lays_out_nltk_corpus_and_is_idempotent(tmp_path):
    files = {f"./usr/share/wordnet/{name}": f"{name} data\n".encode() for name in setup_data.REQUIRED_FILES
             if name != "lexnames"}
    files["./usr/share/doc/wordnet-base/copyright"] = b"not copied"
    deb = tmp_path / "wordnet.deb"
    deb.write_bytes(_deb(files))
    target = tmp_path / "nltk_data"
    wordnet_dir = setup_data.install_wordnet(target, [deb])
    assert wordnet_dir == target / "corpora" / "wordnet"
    assert (wordnet_dir / "index.noun").read_text() == "index.noun data\n"
    assert (wordnet_dir / "lexnames").read_text() == setup_data.lexnames_text()
    assert not (wordnet_dir / "copyright").exists()
    assert not list(wordnet_dir.glob("*.tmp"))
    deb.unlink()  # a second call must not need the package again
    assert setup_data.install_wordnet(target, [deb]) == wordnet_dir


def test_incomplete_package_is_an_error_naming_the_missing_files(tmp_path):
    deb = tmp_path / "partial.deb"
    deb.write_bytes(_deb({"./usr/share/wordnet/index.noun": b"x"}))
    with pytest.raises(RuntimeError, match="data.noun"):
        setup_data.install_wordnet(tmp_path / "nltk_data", [deb])


def test_not_a_deb_is_an_error(tmp_path):
    bogus = tmp_path / "bogus.deb"
    bogus.write_bytes(b"hello")
    with pytest.raises(ValueError, match="not a Debian package"):
        setup_data.install_wordnet(tmp_path / "nltk_data", [bogus])
