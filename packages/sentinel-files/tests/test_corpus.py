"""Check every file of the shared corpus against the fact its manifest states."""

from __future__ import annotations

import csv
import datetime
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sentinel.files import (
    CsvFile,
    DataFile,
    EncryptedFileError,
    FilesError,
    JsonFile,
    UnsafeContentError,
    UnsupportedFormatError,
    XlsxFile,
    XmlFile,
    YamlFile,
    load_file,
)

CORPUS = Path(
    os.environ.get(
        "SENTINEL_CORPUS",
        Path(__file__).resolve().parents[3].parent / "shared" / "corpus",
    )
)
MANIFEST = CORPUS / "MANIFEST.tsv"


def manifest_rows() -> list[dict[str, str]]:
    if not MANIFEST.is_file():
        return []
    with MANIFEST.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream, delimiter="\t"))


ROWS = manifest_rows()


def csv_shape(rows: int, cols: int, **header: str) -> Callable[[DataFile], None]:
    def check(loaded: DataFile) -> None:
        assert isinstance(loaded, CsvFile)
        assert loaded.row_count == rows
        assert len(loaded.header) == cols
        for index, name in header.items():
            assert loaded.header[int(index[1:])] == name

    return check


def csv_cell(row: int, column: str, value: str) -> Callable[[DataFile], None]:
    def check(loaded: DataFile) -> None:
        assert isinstance(loaded, CsvFile)
        record = next(r for i, r in enumerate(loaded.records(), 1) if i == row)
        assert record[column] == value

    return check


def csv_facts(**facts: Any) -> Callable[[DataFile], None]:
    def check(loaded: DataFile) -> None:
        summary = loaded.summary()
        for key, value in facts.items():
            assert summary[key] == value, key

    return check


def sheets(*names: str) -> Callable[[DataFile], None]:
    def check(loaded: DataFile) -> None:
        assert isinstance(loaded, XlsxFile)
        assert [sheet["name"] for sheet in loaded.sheets] == list(names)

    return check


def xlsx_cell(row: int, column: int, value: Any, sheet: int = 0) -> Callable[..., None]:
    def check(loaded: DataFile) -> None:
        assert isinstance(loaded, XlsxFile)
        assert loaded.rows(sheet)[row][column] == value

    return check


def xlsx_sheet(index: int, **facts: Any) -> Callable[[DataFile], None]:
    def check(loaded: DataFile) -> None:
        assert isinstance(loaded, XlsxFile)
        for key, value in facts.items():
            assert loaded.sheets[index][key] == value, key

    return check


def xml_root(tag: str, children: int | None = None) -> Callable[[DataFile], None]:
    def check(loaded: DataFile) -> None:
        assert isinstance(loaded, XmlFile)
        assert loaded.root_tag == tag
        if children is not None:
            assert loaded.child_count == children

    return check


def yaml_doc(check_data: Callable[[list[Any]], bool]) -> Callable[[DataFile], None]:
    def check(loaded: DataFile) -> None:
        assert isinstance(loaded, YamlFile)
        assert check_data(loaded.documents)

    return check


def json_data(check_data: Callable[[Any], bool]) -> Callable[[DataFile], None]:
    def check(loaded: DataFile) -> None:
        assert isinstance(loaded, JsonFile)
        assert check_data(loaded.data)

    return check


def warns(code: str) -> Callable[[DataFile], None]:
    def check(loaded: DataFile) -> None:
        assert code in [issue.code for issue in loaded.warnings]

    return check


# Checks derived from the manifest's "expected" column, per file.
CHECKS: dict[str, list[Callable[[DataFile], None]]] = {
    "csv/airports.csv": [csv_shape(3376, 7, h0="iata"), csv_cell(1, "iata", "00M")],
    "csv/blank-rows-multiple.csv": [csv_shape(13, 3), warns("empty-rows")],
    "csv/bom.csv": [
        csv_facts(encoding="utf-8-sig", header=["id", "name"]),
        csv_cell(2, "name", "中国人"),
    ],
    "csv/comma_in_quotes.csv": [
        csv_shape(1, 5),
        csv_cell(1, "city", "Anytown, WW"),
        csv_cell(1, "zip", "08123"),
    ],
    "csv/country-codes.csv": [
        csv_shape(249, 56),
        lambda f: any(
            r["ISO3166-1-Alpha-2"] == "NA" and r["MARC"] != ""
            for r in f.records()  # type: ignore[attr-defined]
        ),
    ],
    "csv/defective-rows.csv": [
        csv_shape(2, 3),
        lambda f: [i.row for i in f.warnings if i.code == "ragged-row"] == [1, 2],
    ],
    "csv/doublequote.csv": [csv_shape(5, 17, h4="AÑO")],
    "csv/empty.csv": [csv_shape(2, 3), csv_cell(1, "b", ""), csv_cell(1, "a", "1")],
    "csv/escaped_quotes.csv": [csv_shape(2, 2), csv_cell(1, "b", 'ha "ha" ha')],
    "csv/escaping.csv": [csv_shape(3, 2), csv_cell(3, "Test", 'Test " line 3')],
    "csv/issue-1009-semicolon.csv": [
        csv_facts(delimiter=";", rows=1),
        csv_cell(1, "fieldNameA", "0123"),
    ],
    "csv/issue-1138.csv": [
        csv_facts(delimiter=";"),
        csv_shape(7, 4, h3=""),
        csv_cell(1, "Status", "nicht qualitätsgesichert"),
    ],
    "csv/issue-811.csv": [
        csv_facts(encoding="cp1252", delimiter=";"),
        csv_shape(
            7904,
            26,
            h1="Codice dell'Unità territoriale sovracomunale \n"
            "(valida a fini statistici)",
        ),
        lambda f: any(
            "Devin Nabrežina" in " ".join(row)
            for row in f.rows()  # type: ignore[attr-defined]
        ),
    ],
    "csv/matrix-with-comment.csv": [
        csv_facts(comment_lines=1, header=["f1", "f2", "f3", "f4"], rows=4)
    ],
    "csv/newlines_crlf.csv": [
        csv_shape(3, 3),
        csv_facts(line_ending="CRLF"),
        csv_cell(2, "a", "Once upon \r\na time"),
    ],
    "csv/ogd10_energieforschungstatistik_ch.csv": [
        csv_shape(2311, 6),
        csv_facts(line_ending="CRLF"),
        lambda f: (
            next(f.rows())  # type: ignore[attr-defined]
            == ["2015", "1", "FE", "Ausland", "BFE", "79594.72"]
        ),
    ],
    "csv/quotes_and_newlines.csv": [
        csv_shape(2, 2),
        csv_cell(1, "b", 'ha \n"ha" \nha'),
    ],
    "csv/seattle-weather.csv": [
        csv_shape(1461, 6),
        lambda f: (
            next(f.typed_rows())  # type: ignore[attr-defined]
            == ["2012-01-01", 0.0, 12.8, 5.0, 4.7, "drizzle"]
        ),
    ],
    "csv/smallpop-colon.csv": [
        csv_facts(delimiter=":"),
        csv_shape(10, 4, h0="city", h3="population"),
    ],
    "csv/table-infer-iso-8859-7.csv": [
        csv_facts(encoding="iso-8859-7"),
        csv_shape(4, 3),
        csv_cell(1, "name", "Λεωνιδας"),
    ],
    "csv/table-with-accents.csv": [
        csv_facts(encoding="latin-1", delimiter=";", line_ending="CRLF"),
        csv_shape(638, 8, h3="Année"),
        csv_cell(1, "Occupancy rate", "0,611553068"),
    ],
    "csv/uspop-latin1.csv": [
        csv_facts(encoding="latin-1"),
        csv_shape(100, 5),
        lambda f: any(r[0] == "Õakman" for r in f.rows()),  # type: ignore[attr-defined]
    ],
    "csv/uspop-null.csv": [csv_shape(100, 5), csv_cell(1, "Population", "")],
    "csv/utf8.csv": [csv_shape(2, 3), csv_cell(2, "c", "ʤ")],
    "csv/wide.csv": [csv_shape(3, 9074, h0="id", h1="100022")],
    "other/table.tsv": [
        csv_facts(format="tsv", delimiter="\t", header=["id", "name"], rows=3),
        csv_cell(3, "name", "\\N"),
    ],
    "json/airport-codes-datapackage.json": [
        json_data(lambda d: len(d) == 16 and d["licenses"][0]["id"] == "odc-pddl")
    ],
    "json/celery-monitoring-grafana-dashboard.json": [
        json_data(lambda d: len(d) == 21 and "__requires" in d and "panels" in d)
    ],
    "json/country-list-en.json": [
        json_data(lambda d: len(d) == 249 and d["AX"] == "Åland Islands"),
        json_data(lambda d: d["NA"] == "Namibia"),
    ],
    "json/fiscal.json": [
        json_data(lambda d: len(d) == 5 and "draft-04" in d["$schema"])
    ],
    "json/i_string_UTF-16LE_with_BOM.json": [json_data(lambda d: d == ["é"])],
    "json/i_structure_UTF-8_BOM_empty_object.json": [json_data(lambda d: d == {})],
    "json/us-10m.json": [
        json_data(
            lambda d: (
                d["type"] == "Topology" and {"transform", "objects", "arcs"} <= set(d)
            )
        )
    ],
    "json/y_object_duplicated_key.json": [
        json_data(lambda d: d == {"a": "c"}),
        warns("duplicate-key"),
    ],
    "json/y_string_accepted_surrogate_pair.json": [json_data(lambda d: d == ["𐐷"])],
    "xlsx/Book1.xlsx": [sheets("Sheet1", "Sheet2"), xlsx_cell(0, 0, "Total:")],
    "xlsx/adjust-floating-point-error.xlsx": [
        sheets("Sheet1"),
        xlsx_sheet(0, rows=6, columns=4),
        xlsx_cell(2, 2, 274.65999999999997),
    ],
    "xlsx/any_sheets.xlsx": [
        sheets("Visible", "Hidden", "VeryHidden", "Chart"),
        xlsx_sheet(1, visible="hidden"),
        xlsx_sheet(2, visible="veryhidden"),
        xlsx_sheet(3, type="chartsheet"),
        xlsx_cell(0, 0, 1),
    ],
    "xlsx/bad_dimensions.xlsx": [
        xlsx_sheet(0, rows=4, columns=3),
        xlsx_cell(0, 0, "PN"),
    ],
    "xlsx/date.xlsx": [
        sheets("Sheet1"),
        xlsx_cell(0, 0, datetime.date(2021, 1, 1)),
        xlsx_cell(0, 1, 15),
        xlsx_cell(2, 0, datetime.timedelta(days=10, hours=15, minutes=10, seconds=10)),
    ],
    "xlsx/date_1904.xlsx": [
        lambda f: f.date1904,  # type: ignore[attr-defined]
        xlsx_cell(0, 0, datetime.date(2021, 1, 1)),
    ],
    "xlsx/date_1904_01.xlsx": [
        xlsx_cell(0, 0, datetime.date(1900, 1, 1)),
        xlsx_cell(1, 0, datetime.date(1902, 9, 26)),
        xlsx_cell(2, 0, datetime.date(1913, 9, 8)),
    ],
    "xlsx/empty_sheet.xlsx": [xlsx_sheet(0, rows=0), warns("empty-sheet")],
    "xlsx/errors.xlsx": [
        sheets("Feuil1", "Feuil2", "Feuil3"),
        lambda f: (
            [
                (i.sheet, i.row, i.column, i.message.split()[-1])
                for i in f.warnings
                if i.code == "error-cell"
            ][:4]
            == [
                ("Feuil1", 1, 1, "#DIV/0!"),
                ("Feuil1", 2, 1, "#NAME?"),
                ("Feuil1", 3, 1, "#VALUE!"),
                ("Feuil1", 4, 1, "#NULL!"),
            ]
        ),
    ],
    "xlsx/firstsheet01.xlsx": [sheets(*(f"Sheet{n}" for n in range(1, 21)))],
    "xlsx/formula_results01.xlsx": [
        xlsx_cell(0, 0, 2),
        xlsx_cell(1, 0, "Foo"),
        xlsx_cell(2, 0, True),
        xlsx_cell(3, 0, False),
        xlsx_sheet(0, rows=12),
    ],
    "xlsx/has_x000D_.xlsx": [xlsx_cell(0, 0, "ABC\r\nDEF")],
    "xlsx/inlineStr_cdata.xlsx": [
        xlsx_cell(0, 0, "Hello CDATA"),
        xlsx_cell(1, 0, "12345"),
    ],
    "xlsx/issue-1024.xlsx": [
        sheets("IPC"),
        xlsx_sheet(0, columns=55, merged_count=26),
    ],
    "xlsx/issue_174.xlsx": [
        xlsx_sheet(0, rows=2, columns=11),
        xlsx_cell(0, 0, "Your Ref #"),
    ],
    "xlsx/merge_cells.xlsx": [
        xlsx_sheet(0, merged_count=3),
        xlsx_cell(0, 0, "Row Merge"),
        xlsx_cell(0, 2, "Not Merged"),
    ],
    "xlsx/multiline-headers.xlsx": [
        sheets("Лист1"),  # noqa: RUF001 - the sheet name is Cyrillic
        xlsx_sheet(0, rows=6, columns=4, merged_count=5),
        xlsx_cell(0, 0, "Region"),
    ],
    "xlsx/quote_name01.xlsx": [
        sheets(
            "Sheet 1",
            "Sheet 2",
            "Sheet!3",
            'Sheet"4',
            "Sheet#5",
            "Sheet$6",
            "Sheet%7",
            "Sheet&8",
        ),
        xlsx_sheet(2, rows=5, columns=3),
    ],
    "xlsx/richtext-namespaced.xlsx": [
        sheets("Sheet1", "Sheet2", "Sheet3"),
        xlsx_cell(0, 0, "inline string\nLine 2\nLine 3"),
        xlsx_sheet(0, merged_count=2),
    ],
    "xlsx/shared_strings01.xlsx": [xlsx_sheet(0, rows=127), xlsx_cell(0, 0, "\x00")],
    "xlsx/shuttles.xlsx": [
        xlsx_sheet(0, rows=15532, columns=13),
        xlsx_cell(0, 0, "id"),
        xlsx_cell(1, 0, 45163),
    ],
    "xlsx/strict_iso_paths.xlsx": [
        sheets("ml_out"),
        xlsx_sheet(0, rows=76, columns=18),
        xlsx_cell(0, 0, "Item"),
    ],
    "xlsx/unicode_shift_jis.xlsx": [
        xlsx_sheet(0, rows=25, columns=1),
        xlsx_cell(2, 0, "型番"),
    ],
    "xlsx/vba.xlsm": [
        sheets("Sheet1", "Sheet2", "Sheet3"),
        lambda f: f.format == "xlsm" and f.has_macros,  # type: ignore[attr-defined]
    ],
    "xml/big5.xml": [xml_root("rss"), csv_facts(encoding="big5")],
    "xml/country-list-en.xml": [xml_root("values", 249)],
    "xml/dtd.xml": [xml_root("html", 2)],
    "xml/excelize.svg": [xml_root("{http://www.w3.org/2000/svg}svg", 6)],
    "xml/inC14N3.xml": [xml_root("doc", 6)],
    "xml/inNsRedecl.xml": [xml_root("foo", 1)],
    "xml/ooxml-content-types.xml": [
        xml_root(
            "{http://schemas.openxmlformats.org/package/2006/content-types}Types", 13
        )
    ],
    "xml/ooxml-sheet1.xml": [
        xml_root("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}worksheet")
    ],
    "xml/pom.xml": [xml_root("{http://maven.apache.org/POM/4.0.0}project")],
    "xml/rss2.0withAtomNS.xml": [xml_root("rss", 1)],
    "xml/simple-ns.xml": [xml_root("{namespace}root", 3)],
    "xml/utf-16be-bom.xml": [xml_root("rss"), csv_facts(encoding="utf-16")],
    "yaml/cassandra.yaml": [
        yaml_doc(lambda d: len(d) == 1 and len(d[0]) == 87),
        yaml_doc(lambda d: d[0]["cluster_name"] == "Test Cluster"),
        yaml_doc(lambda d: d[0]["num_tokens"] == 256),
        yaml_doc(lambda d: d[0]["key_cache_size_in_mb"] is None),
    ],
    "yaml/country-list-en.yaml": [
        yaml_doc(lambda d: len(d[0]) == 249 and d[0]["NO"] == "Norway"),
        yaml_doc(lambda d: d[0]["NA"] == "Namibia"),
        yaml_doc(lambda d: all(isinstance(key, str) for key in d[0])),
    ],
    "yaml/country.package-full.yaml": [
        yaml_doc(
            lambda d: [r["name"] for r in d[0]["resources"]] == ["capital", "country"]
        )
    ],
    "yaml/flower-build-workflow.yml": [
        yaml_doc(lambda d: list(d[0]) == ["name", "on", "jobs"])
    ],
    "yaml/flower-docker-compose.yml": [
        yaml_doc(
            lambda d: (
                set(d[0]["services"])
                == {"redis", "prometheus", "grafana", "worker", "flower"}
            )
        )
    ],
    "yaml/guestbook-all-in-one.yaml": [
        yaml_doc(lambda d: [doc["kind"] for doc in d] == ["Service", "Deployment"] * 3)
    ],
    "yaml/sphinx-codecov.yml": [
        yaml_doc(
            lambda d: (
                d[0]["coverage"]["status"]["project"]["default"]["enabled"] == "no"
            )
        ),
        yaml_doc(lambda d: d[0]["comment"] is False),
    ],
    "yaml/taskiq-redis-docker-compose.yml": [
        yaml_doc(lambda d: len(d[0]["services"]) == 9),
        yaml_doc(
            lambda d: (
                d[0]["services"]["redis-node-1"]["image"]
                == "docker.io/bitnamilegacy/redis-cluster:7.4.2"
            )
        ),
        yaml_doc(
            lambda d: any(
                service.get("ports") == ["7000:6379"]
                for service in d[0]["services"].values()
            )
        ),
    ],
    "yaml/yts-2XXW-spec-2.25-set.yaml": [
        yaml_doc(
            lambda d: (
                d[0] == {"Mark McGwire": None, "Sammy Sosa": None, "Ken Griff": None}
            )
        )
    ],
    "yaml/yts-565N-construct-binary.yaml": [
        yaml_doc(
            lambda d: (
                isinstance(d[0]["canonical"], bytes) and len(d[0]["canonical"]) == 185
            )
        )
    ],
    "yaml/yts-6FWR-block-scalar-keep.yaml": [yaml_doc(lambda d: d == ["ab\n\n \n"])],
    "yaml/yts-7BUB-spec-2.10-anchors.yaml": [
        yaml_doc(
            lambda d: (
                d[0]
                == {
                    "hr": ["Mark McGwire", "Sammy Sosa"],
                    "rbi": ["Sammy Sosa", "Ken Griffey"],
                }
            )
        )
    ],
    "yaml/yts-C4HZ-spec-2.24-global-tags.yaml": [
        yaml_doc(lambda d: len(d) == 1 and len(d[0]) == 3),
        yaml_doc(lambda d: d[0][0]["center"] == {"x": 73, "y": 129}),
        yaml_doc(lambda d: d[0][0]["radius"] == 7),
        warns("unknown-tag"),
    ],
    "yaml/yts-RZT7-spec-2.28-log-file.yaml": [
        yaml_doc(lambda d: len(d) == 3 and d[0]["Time"] == "2001-11-23 15:01:42 -5")
    ],
    "yaml/yts-UGM3-spec-2.27-invoice.yaml": [
        yaml_doc(lambda d: d[0]["invoice"] == 34843 and d[0]["date"] == "2001-01-23"),
        yaml_doc(lambda d: d[0]["ship-to"] is d[0]["bill-to"]),
        warns("unknown-tag"),
    ],
}

# What the error message of each rejected file must say.
REJECTION_WORDS = {
    "xml/quadratic.xml": "entity declarations are rejected",
    "xml/xmlbomb.xml": "entity declarations are rejected",
    "xml/external.xml": "external entity",
    "xlsx/encryptAES.xlsx": "password-protected",
    "xlsx/pass_protected.xlsx": "password-protected",
    "xlsx/empty_file.xlsx": "empty",
    "json/n_structure_100000_opening_arrays.json": "nest deeper",
    "json/n_number_NaN.json": "NaN",
    "json/i_number_huge_exp.json": "would read as infinity",
}
# Files whose manifest row leaves the outcome to the implementation, and that
# the default reading options reject; tests of each option cover the rest.
REJECTED_BY_DEFAULT = {"json/i_number_huge_exp.json"}
REJECTION_TYPES: dict[str, type[FilesError]] = {
    "xml/quadratic.xml": UnsafeContentError,
    "xml/xmlbomb.xml": UnsafeContentError,
    "xml/external.xml": UnsafeContentError,
    "xlsx/encryptAES.xlsx": EncryptedFileError,
    "xlsx/pass_protected.xlsx": EncryptedFileError,
}


def expected_outcome(row: dict[str, str]) -> str:
    if row["path"].startswith("other/") and row["path"] != "other/table.tsv":
        return "unsupported"
    if "must be rejected" in row["expected"] or row["path"] in REJECTED_BY_DEFAULT:
        return "rejected"
    return "loads"


@pytest.mark.skipif(not ROWS, reason=f"corpus manifest not found at {MANIFEST}")
@pytest.mark.parametrize("row", ROWS, ids=[row["path"] for row in ROWS])
def test_corpus_file_matches_manifest(row: dict[str, str]) -> None:
    path = CORPUS / row["path"]
    outcome = expected_outcome(row)
    if outcome == "unsupported":
        with pytest.raises(UnsupportedFormatError) as caught:
            load_file(path)
        assert "unsupported format" in str(caught.value)
        return
    if outcome == "rejected":
        expected_type = REJECTION_TYPES.get(row["path"], FilesError)
        with pytest.raises(expected_type) as caught:
            load_file(path)
        assert caught.value.code
        assert row["path"].split("/")[-1] in str(caught.value)
        words = REJECTION_WORDS.get(row["path"])
        if words:
            assert words in str(caught.value)
        return
    loaded = load_file(path)
    checks = CHECKS.get(row["path"])
    assert checks, f"no checks written for {row['path']}; add them to CHECKS"
    for check in checks:
        result = check(loaded)
        assert result is None or result is True, f"check failed: {row['expected']}"


def test_corpus_checks_name_manifest_files() -> None:
    if not ROWS:
        pytest.skip(f"corpus manifest not found at {MANIFEST}")
    listed = {row["path"] for row in ROWS}
    assert set(CHECKS) <= listed
