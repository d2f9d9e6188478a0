"""After converge: nginx on dir1 proxies HTTP and TCP to rs1, from a configuration nginx accepts, with the role's
reload that confirms new workers and its restart drop-in."""

from __future__ import annotations

import pytest


@pytest.fixture
def proxy(host):
    if host.backend.get_hostname() != "dir1":
        pytest.skip("the proxy runs on dir1")
    return host


def test_nginx_runs_at_boot(proxy):
    service = proxy.service("nginx")
    assert service.is_enabled and service.is_running


def test_requests_through_the_proxy_reach_the_web_server(proxy):
    answer = proxy.run("curl -s -m 5 -D - http://127.0.0.1/")
    assert answer.rc == 0 and answer.stdout.rstrip().endswith("rs1"), answer.stdout
    assert "X-Proxy: dir1" in answer.stdout


def test_the_stream_module_is_loaded_and_proxies_tcp(proxy):
    assert "stream {" in proxy.file("/etc/nginx/nginx.conf").content_string
    assert proxy.check_output("curl -s -m 5 http://127.0.0.1:9000/") == "rs1"


def test_the_live_configuration_passes_nginx_test(proxy):
    assert proxy.run("nginx -t -q").rc == 0
    assert "include /etc/nginx/modules-enabled/*.conf;" in proxy.file("/etc/nginx/nginx.conf").content_string


def test_a_reload_is_confirmed_by_new_workers(proxy):
    workers = proxy.check_output("ps -o pid= --ppid $(cat /run/nginx.pid)")
    assert proxy.run("/usr/local/sbin/nginx-proxy-reload 10").rc == 0
    assert proxy.check_output("ps -o pid= --ppid $(cat /run/nginx.pid)") != workers


def test_nginx_is_started_again_when_it_dies(proxy):
    assert proxy.check_output("systemctl show -P Restart nginx") == "on-failure"
