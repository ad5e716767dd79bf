"""Detection by content for files without an extension or named .txt or .dat."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from sentinel.files import (
    CsvFile,
    JsonFile,
    TsvFile,
    UnsupportedFormatError,
    XmlFile,
    YamlFile,
    detect,
    load_file,
)
from sentinel.files._cli import files

from .test_corpus import CORPUS

needs_corpus = pytest.mark.skipif(
    not (CORPUS / "SHA256SUMS").is_file(), reason=f"corpus not found at {CORPUS}"
)

FOUND = [
    ("data", '  {"a": [1, 2]}\n', "json", "starts an object"),
    ("list.txt", "[1, 2,\n 3]", "json", "parses as JSON"),
    ("feed.dat", '<?xml version="1.0"?>\n<r><a/></r>\n', "xml", "declaration"),
    ("page", "<root>\n  <a>1</a>\n</root>\n", "xml", "root element <root>"),
    ("config", "name: x\nitems:\n  - 1\n  - 2\n", "yaml", "key-value lines"),
    ("docs.txt", "---\n- a\n- b\n---\nc: 1\n", "yaml", "document marker"),
    ("table.txt", "a;b;c\n1;2,5;3\n4;5;6\n", "csv", "3 semicolon-separated"),
    ("export", "id\tname\n1\tAnn\n2\tBob\n", "tsv", "2 tab-separated"),
    ("colons.dat", "city:state:pop\nA:B:1\nC:D:2\n", "csv", "colon-separated"),
]


@pytest.mark.parametrize(
    ("name", "content", "expected", "words"), FOUND, ids=[row[0] for row in FOUND]
)
def test_detect_reads_format_from_content(
    tmp_path: Path, name: str, content: str, expected: str, words: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    detection = detect(path)
    assert detection.format == expected
    assert words in detection.reason
    assert load_file(path).format == expected


REJECTED = [
    ("notes.txt", "Hello there.\nThis is: a note\n", "plain text"),
    ("scalar.txt", "just: one: line\n", "plain text"),
    ("broken.json.txt", '{"a": 1,\n', "plain text"),
    ("sums", "d41d8cd98f00b204e9800998ecf8427e  a.csv\n" * 3, "checksum list"),
    ("README.txt", "# Title\n\nSome prose.\n\n- a point\n", "Markdown"),
    ("blank.dat", "  \n\n", "only white space"),
    ("one-column", "name\nAnn\nBob\n", "plain text"),
]


@pytest.mark.parametrize(
    ("name", "content", "words"), REJECTED, ids=[row[0] for row in REJECTED]
)
def test_detect_rejects_text_that_matches_no_format(
    tmp_path: Path, name: str, content: str, words: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UnsupportedFormatError) as caught:
        detect(path)
    assert words in caught.value.message
    assert "unsupported format" in caught.value.message


@needs_corpus
@pytest.mark.parametrize(
    ("relative", "words"),
    [("SHA256SUMS", "checksum list"), ("README.md", "Markdown")],
)
def test_corpus_text_files_stay_unsupported(relative: str, words: str) -> None:
    with pytest.raises(UnsupportedFormatError) as caught:
        load_file(CORPUS / relative)
    assert words in str(caught.value)


@needs_corpus
def test_corpus_markdown_renamed_txt_is_still_prose(tmp_path: Path) -> None:
    path = tmp_path / "README.txt"
    shutil.copyfile(CORPUS / "README.md", path)
    with pytest.raises(UnsupportedFormatError, match="Markdown"):
        detect(path)


CORPUS_RENAMED = [
    ("csv/issue-811.csv", "report.txt", CsvFile),
    ("csv/table-with-accents.csv", "accents", CsvFile),
    ("other/table.tsv", "table.dat", TsvFile),
    ("json/country-list-en.json", "countries", JsonFile),
    ("xml/pom.xml", "pom.txt", XmlFile),
    ("xml/utf-16be-bom.xml", "feed", XmlFile),
    ("yaml/flower-docker-compose.yml", "compose.txt", YamlFile),
    ("yaml/guestbook-all-in-one.yaml", "manifests", YamlFile),
]


@needs_corpus
@pytest.mark.parametrize(
    ("relative", "name", "cls"), CORPUS_RENAMED, ids=[r[0] for r in CORPUS_RENAMED]
)
def test_corpus_file_without_its_extension_loads_the_same(
    tmp_path: Path, relative: str, name: str, cls: type
) -> None:
    path = tmp_path / name
    shutil.copyfile(CORPUS / relative, path)
    renamed = load_file(path)
    assert type(renamed) is cls
    original = load_file(CORPUS / relative)
    renamed_summary = renamed.summary()
    original_summary = original.summary()
    for key in ("bytes", "rows", "header", "delimiter", "root", "documents"):
        assert renamed_summary.get(key) == original_summary.get(key), key


def test_inspect_explains_content_detection(tmp_path: Path) -> None:
    path = tmp_path / "export.dat"
    path.write_text("id;name\n1;Ann\n2;Bob\n")
    result = CliRunner().invoke(files, ["inspect", str(path)])
    assert result.exit_code == 0, result.output
    assert "format: csv" in result.output
    assert "why: extension .dat; delimited text: 100% of sampled lines" in (
        result.output
    )


def test_inspect_explains_why_text_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "SUMS"
    path.write_text("d41d8cd98f00b204e9800998ecf8427e *a.bin\n")
    result = CliRunner().invoke(files, ["inspect", str(path)])
    assert result.exit_code == 1
    assert "no file extension, and the content is a checksum list" in result.output
