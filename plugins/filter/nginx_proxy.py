# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nginx_proxy_config: the nginx_proxy role's upstreams and servers as nginx configuration text, from the field
declarations in module_utils/_nginx.py, after the same validation the role's preflight runs (input_problems
with kind nginx_proxy)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.linux_cluster.lvs.plugins.module_utils._input import plain, problem_lines
from ansible_collections.linux_cluster.lvs.plugins.module_utils._nginx import (
    PROXY_INPUT,
    listen_addresses,
    render_http,
    render_stream,
)


def nginx_proxy_config(proxy) -> dict:
    """{upstreams, servers, stream_upstreams, stream_servers} -> {'http': text, 'stream': text (empty without
    stream servers), 'addresses': the specific addresses listened on}."""
    model, problems = PROXY_INPUT.built(plain(proxy) or {})
    if problems:
        raise AnsibleFilterError("nginx_proxy_config: " + "; ".join(problem_lines(problems)))
    return {"http": render_http(model), "stream": render_stream(model), "addresses": listen_addresses(model)}


class FilterModule:
    def filters(self):
        return {"nginx_proxy_config": nginx_proxy_config}
