"""The nginx proxy's declarations: validation (argument spec, field checks, rules) and the configuration text."""

from __future__ import annotations

import pytest

from ansible_collections.linux_cluster.lvs.plugins.filter.nginx_proxy import nginx_proxy_config
from ansible_collections.linux_cluster.lvs.plugins.module_utils._input import InputError
from ansible_collections.linux_cluster.lvs.plugins.module_utils._nginx import PROXY_INPUT


def proxy(**changes) -> dict:
    base = {"upstreams": [{"name": "web", "servers": [{"address": "198.51.100.21", "weight": 1},
                                                      {"address": "198.51.100.22", "weight": 3}]}],
            "servers": [{"address": "192.0.2.80", "locations": [{"upstream": "web"}]}]}
    return {**base, **changes}


def problems(params: dict) -> list[str]:
    return [problem.message() if isinstance(problem, InputError) else problem
            for problem in PROXY_INPUT.problems(params)]


def test_a_weighted_proxy_is_written_with_forwarding_headers():
    config = nginx_proxy_config(proxy())
    assert config["addresses"] == ["192.0.2.80"]
    assert config["stream"] == ""
    assert config["http"] == """upstream web {
    server 198.51.100.21:80 weight=1;
    server 198.51.100.22:80 weight=3;
}

server {
    listen 192.0.2.80:80;
    location / {
        proxy_pass http://web;
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
    }
}
"""


def test_every_option_reaches_the_configuration():
    config = nginx_proxy_config({
        "upstreams": [{"name": "api", "method": "hash", "hash_key": "$request_uri", "consistent": True,
                       "keepalive": 16, "directives": ["keepalive_timeout 30s;"],
                       "servers": [{"address": "2001:db8::21", "port": 8080, "max_fails": 2, "fail_timeout": 5},
                                   {"address": "api.example", "down": True}]}],
        "servers": [{"address": "2001:db8::80", "port": 8000, "server_names": ["a.example", "b.example"],
                     "locations": [{"path": "^~ /api/", "upstream": "api", "forward_headers": False,
                                    "connect_timeout": 2, "read_timeout": 30, "send_timeout": 30,
                                    "next_upstream": ["error", "timeout", "http_502"], "next_upstream_tries": 2}],
                     "directives": ["client_max_body_size 8m;"]}],
        "stream_upstreams": [{"name": "dns", "method": "least_conn",
                              "servers": [{"address": "198.51.100.53", "port": 53, "backup": True}]}],
        "stream_servers": [{"port": 53, "protocol": "udp", "upstream": "dns", "timeout": 5, "next_upstream": False}],
    })
    assert "    hash $request_uri consistent;\n    server [2001:db8::21]:8080 max_fails=2 fail_timeout=5s;\n" \
           "    server api.example:80 down;\n    keepalive 16;\n    keepalive_timeout 30s;\n}" in config["http"]
    assert "    listen [2001:db8::80]:8000;\n    server_name a.example b.example;\n    location ^~ /api/ {\n" \
           "        proxy_pass http://api;\n        proxy_http_version 1.1;\n" \
           "        proxy_set_header Connection \"\";\n" \
           "        proxy_connect_timeout 2s;\n        proxy_read_timeout 30s;\n        proxy_send_timeout 30s;\n" \
           "        proxy_next_upstream error timeout http_502;\n        proxy_next_upstream_tries 2;\n    }\n" \
           "    client_max_body_size 8m;\n}" in config["http"]
    assert "X-Real-IP" not in config["http"]
    assert config["stream"] == """upstream dns {
    least_conn;
    server 198.51.100.53:53 backup;
}

server {
    listen 53 udp;
    proxy_pass dns;
    proxy_timeout 5s;
    proxy_next_upstream off;
}
"""
    assert config["addresses"] == ["2001:db8::80"]


@pytest.mark.parametrize(("params", "expected"), [
    (proxy(upstreams=[{"name": "web", "servers": [{"address": "198.51.100.21", "weight": "heavy"}]}]),
     "argument 'weight' is of type str found in 'upstreams -> servers'"),
    (proxy(upstreams=[{"name": "web", "servers": [{"address": "198.51.100.21", "port": 0}]}]),
     "upstreams[0].servers[0].port=0: must be from 1 to 65535"),
    (proxy(upstreams=[{"name": "web", "servers": [{"address": "198.51.100.256"}]}]),
     "upstreams[0].servers[0].address='198.51.100.256': an IP address or a host name is required"),
    (proxy(upstreams=[{"name": "web server", "servers": [{"address": "198.51.100.21"}]}]),
     "upstreams[0].name='web server': use 1-64 letters"),
    (proxy(servers=[{"address": "192.0.2.800", "locations": [{"upstream": "web"}]}]),
     "servers[0].address='192.0.2.800': not an IP address"),
    (proxy(servers=[{"locations": [{"upstream": "web", "path": "api"}]}]), "servers[0].locations[0].path='api'"),
    (proxy(servers=[{"locations": [{"upstream": "web", "directives": ["gzip on"]}]}]),
     "servers[0].locations[0].directives[0]='gzip on': a whole directive is required"),
    (proxy(servers=[{"locations": [{"upstream": "web", "next_upstream": ["off", "error"]}]}]),
     "'off' stands alone"),
    (proxy(servers=[{"locations": [{"upstream": "nowhere"}]}]),
     "servers[0].locations[0].upstream='nowhere': no such upstream in nginx_proxy_upstreams"),
    (proxy(servers=[{"locations": [{"upstream": "web"}, {"upstream": "web"}]}]),
     "servers[0].locations[1].path='/': declared twice in this server"),
    (proxy(servers=[{"locations": []}]), "servers[0].locations=[]: at least one location is required"),
    (proxy(upstreams=[{"name": "web", "method": "hash", "servers": [{"address": "198.51.100.21"}]}]),
     "upstreams[0].hash_key=None: method hash needs a key"),
    (proxy(upstreams=[{"name": "web", "hash_key": "$uri", "servers": [{"address": "198.51.100.21"}]}]),
     "upstreams[0].hash_key='$uri': only method hash has a key, not round_robin"),
    (proxy(upstreams=[{"name": "web", "consistent": True, "servers": [{"address": "198.51.100.21"}]}]),
     "upstreams[0].consistent=True: only method hash is consistent"),
    (proxy(upstreams=[{"name": "web", "method": "ip_hash", "servers": [{"address": "198.51.100.21", "backup": True}]}]),
     "upstreams[0].servers[0].backup=True: nginx has no backup server with method ip_hash"),
    (proxy(upstreams=[{"name": "web", "servers": []}]), "upstreams[0].servers=[]: at least one server is required"),
    (proxy(upstreams=2 * [{"name": "web", "servers": [{"address": "198.51.100.21"}]}]),
     "upstreams[1].name='web': declared twice"),
    (proxy(upstreams=[{"name": "web", "method": "ip_hash", "servers": [{"address": "198.51.100.21"}]}],
           stream_upstreams=[{"name": "tcp", "method": "ip_hash",
                              "servers": [{"address": "198.51.100.21", "port": 80}]}]),
     "value of method must be one of: round_robin, least_conn, hash, random, got: ip_hash"),
    (proxy(stream_upstreams=[{"name": "tcp", "servers": [{"address": "198.51.100.21"}]}]),
     "missing required arguments: port"),
    (proxy(stream_upstreams=[{"name": "tcp", "servers": [{"address": "198.51.100.21", "port": 80}]}],
           stream_servers=[{"port": 80, "upstream": "tcp"}]),
     "stream_servers[0].port=80: an HTTP server listens there"),
    (proxy(stream_upstreams=[{"name": "tcp", "servers": [{"address": "198.51.100.21", "port": 80}]}],
           stream_servers=[{"port": 81, "upstream": "tcp"}, {"address": "192.0.2.80", "port": 81, "upstream": "tcp"}]),
     "stream_servers[1].port=81: another stream server listens there"),
    (proxy(stream_upstreams=[{"name": "tcp", "servers": [{"address": "198.51.100.21", "port": 80}]}],
           stream_servers=[{"port": 81, "upstream": "web"}]),
     "stream_servers[0].upstream='web': no such upstream in nginx_proxy_stream_upstreams"),
])
def test_bad_input_is_named(params, expected):
    found = problems(params)
    assert any(expected in problem for problem in found), found


def test_every_bad_field_is_reported_at_once():
    found = problems(proxy(upstreams=[{"name": "web", "servers": [{"address": "x..y", "port": 0}]}],
                           servers=[{"address": "nowhere", "port": 80, "locations": [{"upstream": "web"}]}]))
    assert len(found) == 3, found


def test_udp_and_tcp_share_a_port_and_a_good_proxy_has_no_problem():
    params = proxy(stream_upstreams=[{"name": "dns", "servers": [{"address": "198.51.100.53", "port": 53}]}],
                   stream_servers=[{"port": 53, "upstream": "dns"}, {"port": 53, "protocol": "udp", "upstream": "dns"}])
    assert problems(params) == []


@pytest.mark.parametrize("path", ["/", "/api/", "= /health", "^~ /static/", "~ \\.php$", "~* \\.(gif|png)$"])
def test_locations_nginx_takes(path):
    assert problems(proxy(servers=[{"locations": [{"upstream": "web", "path": path}]}])) == []


@pytest.mark.parametrize("path", ["api", "= api", "~", "/a b", "/a;", "/{x}", "=/x"])
def test_locations_nginx_would_refuse_or_misread(path):
    assert any("a location is a path" in problem
               for problem in problems(proxy(servers=[{"locations": [{"upstream": "web", "path": path}]}])))


def test_the_filter_names_the_problems():
    with pytest.raises(Exception, match=r"nginx_proxy_config: servers\[0\].locations\[0\].upstream='x'"):
        nginx_proxy_config(proxy(servers=[{"locations": [{"upstream": "x"}]}]))
