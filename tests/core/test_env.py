"""core/env.py: settings from the environment fail loudly on bad values."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.env import env_bool, env_int, env_list, env_str

NAME = "REGIMEN_TEST_SETTING"


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", " yes ", "on"])
def test_env_bool_true(monkeypatch, raw):
    monkeypatch.setenv(NAME, raw)
    assert env_bool(NAME) is True


@pytest.mark.parametrize("raw", ["0", "false", "No", "off", ""])
def test_env_bool_false(monkeypatch, raw):
    monkeypatch.setenv(NAME, raw)
    assert env_bool(NAME, default=True) is False


@pytest.mark.parametrize("raw", ["ture", "2", "enabled", "y e s", "nein"])
def test_env_bool_refuses_anything_else(monkeypatch, raw):
    monkeypatch.setenv(NAME, raw)
    with pytest.raises(ImproperlyConfigured, match=NAME):
        env_bool(NAME)


def test_env_bool_default_when_unset(monkeypatch):
    monkeypatch.delenv(NAME, raising=False)
    assert env_bool(NAME) is False
    assert env_bool(NAME, default=True) is True


@pytest.mark.parametrize(("raw", "value"), [("587", 587), (" 25 ", 25), ("0", 0)])
def test_env_int(monkeypatch, raw, value):
    monkeypatch.setenv(NAME, raw)
    assert env_int(NAME, 1) == value


@pytest.mark.parametrize("raw", ["twenty", "25.0", "0x19", "1e3", "25 smtp"])
def test_env_int_refuses_non_numbers(monkeypatch, raw):
    monkeypatch.setenv(NAME, raw)
    with pytest.raises(ImproperlyConfigured, match=NAME):
        env_int(NAME, 25)


def test_env_int_enforces_its_minimum(monkeypatch):
    monkeypatch.setenv(NAME, "-1")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int(NAME, 25, minimum=1)


def test_env_int_default_when_unset_or_blank(monkeypatch):
    monkeypatch.delenv(NAME, raising=False)
    assert env_int(NAME, 25) == 25
    monkeypatch.setenv(NAME, "  ")
    assert env_int(NAME, 25) == 25


def test_env_list_and_str(monkeypatch):
    monkeypatch.setenv(NAME, " a.example, b.example ,,")
    assert env_list(NAME, ["x"]) == ["a.example", "b.example"]
    assert env_str(NAME) == " a.example, b.example ,,"
    monkeypatch.delenv(NAME)
    assert env_list(NAME, ["x"]) == ["x"]
    assert env_str(NAME, "d") == "d"
