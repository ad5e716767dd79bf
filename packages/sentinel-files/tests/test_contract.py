"""The file-format contract of sentinel.testing on the JSON, XML and YAML classes."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentinel.testing.contracts import FileFormatContract


class TestJsonFileContract(FileFormatContract):
    target = "sentinel.files._json:JsonFile"
    type_name = "json"

    @pytest.fixture
    def valid_file(self, tmp_path: Path) -> Path:
        path = tmp_path / "orders.json"
        path.write_text('{"orders": [{"id": 1, "total": 9.5}]}', encoding="utf-8")
        return path

    @pytest.fixture
    def invalid_file(self, tmp_path: Path) -> Path:
        path = tmp_path / "truncated.json"
        path.write_text('{"orders": [1, 2', encoding="utf-8")
        return path


class TestXmlFileContract(FileFormatContract):
    target = "sentinel.files._xml:XmlFile"
    type_name = "xml"

    @pytest.fixture
    def valid_file(self, tmp_path: Path) -> Path:
        path = tmp_path / "order.xml"
        path.write_text('<order id="1"><line sku="a"/></order>', encoding="utf-8")
        return path

    @pytest.fixture
    def invalid_file(self, tmp_path: Path) -> Path:
        path = tmp_path / "mismatched.xml"
        path.write_text("<order><line></order>", encoding="utf-8")
        return path


class TestYamlFileContract(FileFormatContract):
    target = "sentinel.files._yaml:YamlFile"
    type_name = "yaml"

    @pytest.fixture
    def valid_file(self, tmp_path: Path) -> Path:
        path = tmp_path / "routes.yaml"
        path.write_text("routes:\n  - name: inbox\n", encoding="utf-8")
        return path

    @pytest.fixture
    def invalid_file(self, tmp_path: Path) -> Path:
        path = tmp_path / "unclosed.yaml"
        path.write_text("routes: [inbox, outbox\n", encoding="utf-8")
        return path
