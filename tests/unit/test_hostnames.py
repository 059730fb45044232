"""A custom domain's host name, normalized as Caddy matches hosts, or refused saying why."""

from __future__ import annotations

import pytest

from api.services.domains import check_outside_apps_domain, normalize_hostname
from core.errors import ConfigError


@pytest.mark.parametrize(
    ("given", "normalized"),
    [
        ("www.example.com", "www.example.com"),
        ("WWW.Example.COM", "www.example.com"),
        (" www.example.com. ", "www.example.com"),
        ("Bücher.Example", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("\uff57\uff57\uff57.example.com", "www.example.com"),  # fullwidth letters map to ASCII (UTS 46)
        ("a-b.c1.example", "a-b.c1.example"),
    ],
)
def test_host_names_become_lowercase_ascii(given: str, normalized: str) -> None:
    assert normalize_hostname(given) == normalized


@pytest.mark.parametrize(
    ("given", "detail"),
    [
        ("", "hostname: must be a host name such as www.example.com"),
        (
            "*.example.com",
            "hostname: wildcard domains are not supported: add each host name such as www.example.com",
        ),
        (
            "http://example.com",
            "hostname: must be a bare host name such as www.example.com, without scheme, port or path",
        ),
        (
            "example.com/blog",
            "hostname: must be a bare host name such as www.example.com, without scheme, port or path",
        ),
        ("192.168.1.10", "hostname: must be a host name such as www.example.com, not an IP address"),
        ("localhost", "hostname: must be a fully qualified host name such as www.example.com"),
        ("1.2.3", "hostname: must be a fully qualified host name such as www.example.com"),
        ("a..example.com", "is not a valid host name"),
        ("-a.example.com", "is not a valid host name"),
        ("a_b.example.com", "is not a valid host name"),
        (f"{'a' * 64}.example.com", "is not a valid host name"),
        (".".join(["abcdefghi"] * 26), "is not a valid host name"),  # 259 characters
    ],
)
def test_what_is_not_one_host_name_is_refused(given: str, detail: str) -> None:
    with pytest.raises(ConfigError) as refused:
        normalize_hostname(given)

    assert refused.value.where == "hostname"
    assert detail in refused.value.detail


@pytest.mark.parametrize("host", ["apps.example.com", "blog.apps.example.com", "a.b.apps.example.com"])
def test_the_apps_domain_and_names_under_it_are_dockyards(host: str) -> None:
    with pytest.raises(ConfigError, match=r"is in the apps domain apps\.example\.com, where each app"):
        check_outside_apps_domain(host, "Apps.Example.com")


@pytest.mark.parametrize("host", ["example.com", "www.example.com", "myapps.example.com"])
def test_names_beside_the_apps_domain_are_fine(host: str) -> None:
    check_outside_apps_domain(host, "apps.example.com")
