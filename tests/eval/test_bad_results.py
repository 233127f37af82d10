"""Results files that are hostile or damaged: names that would lead a report outside its folder,
lines that are not rows, and a last line cut by a kill."""

from __future__ import annotations

import json
import logging
import os

import pytest
from typer.testing import CliRunner

from fgclip.cli import app
from fgclip.eval import run
from fgclip.eval.report import write_report

from .test_run import config, stub, with_fake  # noqa: F401 (with_fake is a fixture)

runner = CliRunner()


def result_row(benchmark="fake", name="ck", subset="all", metric="accuracy", value=50.0, **extra):
    row = {"checkpoint": f"/ck/{name}.pt", "name": name, "benchmark": benchmark, "subset": subset,
           "metric": metric, "value": value, "n": 2, "convention": "", "missing": 0}
    row.update(extra)
    return row


def write_rows(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def files_under(folder):
    return {os.path.join(top, name) for top, _, names in os.walk(folder) for name in names}


def test_names_from_a_results_file_stay_inside_the_output_folder(tmp_path):
    output = tmp_path / "deep" / "er" / "report"
    climbing = tmp_path / "deep" / "x.png"  # where "../../x" would land
    absolute = tmp_path / "elsewhere" / "victim.png"
    for victim in (climbing, absolute):
        victim.parent.mkdir(parents=True, exist_ok=True)
        victim.write_bytes(b"keep me")
    benchmarks = ["../../x", str(absolute.with_suffix("")), "a/b", "a_b", "a:b", "summary", "Fake", "fake", ".hidden"]
    results = write_rows(tmp_path / "results.jsonl", [result_row(b, value=10.0 * i) for i, b in enumerate(benchmarks)])
    before = files_under(tmp_path)

    written = write_report(results, output)

    assert climbing.read_bytes() == b"keep me" and absolute.read_bytes() == b"keep me"
    assert all(path.parent == output for path in written)
    created = files_under(tmp_path) - before
    assert created and all(path.startswith(str(output) + os.sep) for path in created)
    charts = [path for path in written if path.name != "summary.png" and path.suffix == ".png"]
    assert len(charts) == len(benchmarks)  # one chart per benchmark...
    names = {path.name.casefold() for path in written}
    assert len(names) == len(written)  # ...none shared, even on a case-blind file system
    assert all(path.is_file() and path.read_bytes().startswith(b"\x89PNG") for path in charts)
    assert output / "fake.png" in written  # a name that is already safe is kept as it is


def test_a_safe_file_name_is_one_plain_bounded_component():
    from fgclip.eval.report import safe_file_name

    names = ["fake", "../../x", "/abs/path", "a/b", "a_b", "a\\b", "a:b", "", ".", "..", ".hidden", "nul\x00l",
             "line\nbreak", "é", "e", "x" * 1000, "x" * 999 + "y", "summary", "Fake", "fake-0123abcdef", "a b", "a..b", "A.b", "A_b"]
    safe = [safe_file_name(name) for name in names]
    assert safe == [safe_file_name(name) for name in names]  # the same name always gives the same file
    assert len({s.casefold() for s in safe}) == len(names)
    for name, s in zip(names, safe):
        assert s and len(s.encode("utf-8")) <= 120, name
        assert "/" not in s and ".." not in s and "\\" not in s and not s.startswith(".") and s not in ("summary", "report"), name
        assert all(c.isascii() and (c.isalnum() or c in "._-") for c in s), name
    assert safe[0] == "fake"


def test_lines_that_are_not_rows_are_skipped_named_and_counted(tmp_path, caplog):
    good = [result_row(subset="first"), result_row(subset="second")]
    results = tmp_path / "results.jsonl"
    results.write_bytes(b"\n".join([
        json.dumps(good[0]).encode(),
        b"[1, 2]",
        b"null",
        b'"x"',
        b'{"benchmark": "fake", "caf\xe9": 1}',  # not UTF-8
        json.dumps({k: v for k, v in good[0].items() if k != "value"}).encode(),
        json.dumps(result_row(value="high")).encode(),
        json.dumps(result_row(value=True)).encode(),
        json.dumps(result_row(n=2.5)).encode(),
        json.dumps(result_row(benchmark=3)).encode(),
        b"",
        b"[" * 100_000,  # deeper than the parser's recursion
        b'{"n": ' + b"9" * 5000 + b"}",  # longer than Python turns into an int
        json.dumps(result_row(value=float("inf"))).encode(),
        json.dumps(good[1]).encode(),
        json.dumps(good[1]).encode()[:-9],  # cut by a kill
    ]))
    with caplog.at_level(logging.WARNING, logger="fgclip"):
        rows = run.read_results(results)
    assert rows == good
    messages = [r.getMessage() for r in caplog.records]
    for line in (2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 16):
        assert any(f"{results}:{line}:" in m for m in messages), line
    assert any(str(results) in m and "13 bad line(s)" in m for m in messages)
    assert not any(f"{results}:{line}:" in m for m in messages for line in (1, 11, 15))


def test_report_skips_bad_lines_and_refuses_a_file_with_no_rows(tmp_path, caplog):
    results = tmp_path / "results.jsonl"
    results.write_bytes(b"null\n[1]\n" + json.dumps(result_row()).encode() + b"\n\xff\xfe\n")
    with caplog.at_level(logging.WARNING, logger="fgclip"):
        done = runner.invoke(app, ["report", str(results), "--output", str(tmp_path / "report")])
    assert done.exit_code == 0, done.output
    warned = "\n".join(r.getMessage() for r in caplog.records)
    assert f"{results}:1:" in warned and f"{results}:4:" in warned and "3 bad line(s)" in warned
    assert "3 bad line(s)" in (tmp_path / "report" / "report.md").read_text()

    results.write_bytes(b"null\n{}\n")
    refused = runner.invoke(app, ["report", str(results), "--output", str(tmp_path / "report2")])
    assert refused.exit_code == 2
    assert str(results) in refused.output and "no results rows" in refused.output


def test_eval_resumes_past_junk_lines(tmp_path, with_fake):  # noqa: F811
    results = tmp_path / "results.jsonl"
    results.write_bytes(b"[1, 2]\nnull\n\xff\n")
    rows = run.evaluate(config(tmp_path), echo=lambda _: None, encoder_for=lambda path: stub())
    assert [r["subset"] for r in rows] == ["first", "second", "all"]
    assert run.read_results(results) == rows


def test_a_row_appended_after_a_cut_last_line_is_kept_whole(tmp_path, with_fake):  # noqa: F811
    results = tmp_path / "results.jsonl"
    first_run = run.evaluate(config(tmp_path), echo=lambda _: None, encoder_for=lambda path: stub())
    lines = results.read_bytes().split(b"\n")
    results.write_bytes(lines[0] + b"\n" + lines[1][:20])  # killed while writing the second subset's row

    again = stub()
    rows = run.evaluate(config(tmp_path), echo=lambda _: None, encoder_for=lambda path: again)

    assert [r["subset"] for r in rows] == ["second", "all"]  # the whole first row is still recognised
    assert again.image_calls == ["a"]  # only the second subset is scored again
    assert run.read_results(results) == first_run
    assert results.read_bytes().split(b"\n")[1] == lines[1][:20]  # the cut line stays apart, a bad line
    assert results.read_bytes().endswith(b"\n")


def test_an_append_is_one_write_then_fsync(tmp_path, monkeypatch):
    calls = []
    real_write, real_fsync = os.write, os.fsync
    monkeypatch.setattr(os, "write", lambda fd, data: calls.append(("write", bytes(data))) or real_write(fd, data))
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append(("fsync", None)) or real_fsync(fd))
    results = tmp_path / "results.jsonl"
    results.write_bytes(b'{"cut')
    rows = [result_row(subset="first"), result_row(subset="second")]
    run._append(results, rows)
    expected = b"\n" + b"".join(json.dumps(row).encode() + b"\n" for row in rows)
    assert calls == [("write", expected), ("fsync", None)]
    assert run.read_results(results) == rows


@pytest.mark.parametrize("climbs", [True, False])
def test_report_via_the_command_writes_only_in_its_folder(tmp_path, climbs):
    (tmp_path / "work").mkdir()
    name = "../up" if climbs else str(tmp_path / "up")
    results = write_rows(tmp_path / "work" / "results.jsonl", [result_row(name), result_row("fine")])
    output = tmp_path / "work" / "out"
    before = files_under(tmp_path)
    done = runner.invoke(app, ["report", str(results), "--output", str(output)])
    assert done.exit_code == 0, done.output
    created = files_under(tmp_path) - before
    assert len(created) == 4 and all(path.startswith(str(output) + os.sep) for path in created)


def test_names_that_are_markup_or_broken_text_do_not_break_the_report(tmp_path, monkeypatch, caplog):
    from fgclip.eval import report

    legends = []

    def capture(fig, path):
        legends.extend(text.get_text() for ax in fig.axes if ax.get_legend() for text in ax.get_legend().get_texts())
        real_save(fig, path)

    real_save = report.save_figure
    monkeypatch.setattr(report, "save_figure", capture)
    results = tmp_path / "results.jsonl"
    rows = [result_row("a$\\frac$b", name="_hidden"), result_row("a$\\frac$b", name="two\nlines"),
            result_row("fake", name="\ud800")]  # a lone surrogate: no UTF-8 can hold it
    results.write_text("".join(json.dumps(row) + "\n" for row in rows))
    with caplog.at_level(logging.WARNING, logger="fgclip"):
        written = write_report(results, tmp_path / "report")
    assert any(f"{results}:3:" in r.getMessage() for r in caplog.records)
    assert len(written) == 3
    table = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert "| checkpoint | a$\\frac$b accuracy |" in table
    assert not any(line.startswith("lines") for line in table.splitlines())  # the table row stays one line
    assert sum("hidden" in text for text in legends) == 2 and sum("lines" in text for text in legends) == 2


def test_a_file_of_junk_names_its_first_lines_and_counts_all(tmp_path, caplog):
    results = tmp_path / "results.jsonl"
    results.write_text("null\n" * 25)
    with caplog.at_level(logging.WARNING, logger="fgclip"):
        assert run.read_results(results) == []
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 21 and f"{results}:20:" in messages[19]
    assert "25 bad line(s)" in messages[-1] and "first 20" in messages[-1]
