"""The repository's own layout: what the built collection ships, and integration targets that can fail."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ROOT / "tests/integration/targets"


@pytest.fixture(scope="module")
def built_tarball(tmp_path_factory) -> Path:
    """`ansible-galaxy collection build` of a copy of the committed tree."""
    work = tmp_path_factory.mktemp("build")
    tree = work / "tree"
    listing = ["git", "ls-files", "--cached", "--others", "--exclude-standard"]
    files = subprocess.run(listing, cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        if (ROOT / name).is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tree / name)
    galaxy = Path(sys.executable).parent / "ansible-galaxy"
    subprocess.run([str(galaxy), "collection", "build", "--output-path", str(work), str(tree)], check=True,
                   capture_output=True, text=True)
    return next(work.glob("*.tar.gz"))


@pytest.fixture(scope="module")
def built_files(built_tarball) -> list[str]:
    with tarfile.open(built_tarball) as archive:
        return archive.getnames()


def test_ansible_builder_finds_what_the_collection_needs(built_tarball, tmp_path):
    """The built collection installed as ansible-builder installs it into an image: its introspection finds the
    system packages of meta/execution-environment.yml (bindep.txt) and no Python requirements."""
    bin_dir = Path(sys.executable).parent
    # --force: the suite's own collection path already holds linux_cluster.lvs, which galaxy would keep.
    subprocess.run([str(bin_dir / "ansible-galaxy"), "collection", "install", "--force", "-p",
                    str(tmp_path / "collections"), str(built_tarball)], check=True, capture_output=True, text=True)
    found = subprocess.run([str(bin_dir / "ansible-builder"), "introspect", str(tmp_path / "collections")],
                           check=True, capture_output=True, text=True).stdout
    needs = yaml.safe_load(found[found.index("---"):])
    assert needs["python"] == []
    assert sorted(line.split("#")[0].strip() for line in needs["system"]) == [
        "openssh-client [platform:dpkg]", "openssh-clients [platform:rpm]"], needs
    assert all(line.endswith("# from collection linux_cluster.lvs") for line in needs["system"]), needs


def test_ansible_builder_accepts_the_example_execution_environment(built_tarball, tmp_path):
    """docs/execution-environment.yml with the built tarball beside it: `ansible-builder create` writes a build
    context whose galaxy requirements name the tarball it copied in."""
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs", docs)
    definition = yaml.safe_load((docs / "execution-environment.yml").read_text())
    shipped = definition["additional_build_files"][0]["src"]
    shutil.copy(built_tarball, docs / shipped)
    assert built_tarball.name == shipped, "docs/execution-environment.yml names another version than galaxy.yml"
    subprocess.run([str(Path(sys.executable).parent / "ansible-builder"), "create", "-f",
                    str(docs / "execution-environment.yml"), "--context", str(tmp_path / "context")],
                   check=True, capture_output=True, text=True)
    build = tmp_path / "context/_build"
    assert (build / "collections" / shipped).read_bytes() == built_tarball.read_bytes()
    wanted = yaml.safe_load((build / "requirements.yml").read_text())["collections"]
    assert wanted == [{"name": f"collections/{shipped}", "type": "file"}]
    assert "ansible-core>=2.19,<2.22" in (tmp_path / "context/Dockerfile").read_text()


@pytest.mark.parametrize("path", ["Makefile", "ansible.cfg", "requirements-dev.txt", "site.yml", "scripts",
                                  "tools", "inventories/lab", "inventories/lab-topologies", "extensions",
                                  "benchmarks", ".ci", "ruff.toml"])
def test_the_built_collection_leaves_out_the_repository_machinery(built_files, path):
    assert not [name for name in built_files if name == path or name.startswith(path + "/")]


@pytest.mark.parametrize("path", ["MANIFEST.json", "meta/runtime.yml", "plugins/modules/ipvs_rules.py",
                                  "plugins/doc_fragments/ipvs.py", "roles/lvs_director/meta/argument_specs.yml",
                                  "roles/lvs_director/README.md", "playbooks/lvs_cluster.yml", "README.md",
                                  "inventories/example/hosts.yml", "playbooks/prereqs.yml",
                                  "meta/execution-environment.yml", "bindep.txt", "docs/execution-environment.yml"])
def test_the_built_collection_has_what_users_need(built_files, path):
    assert path in built_files, built_files


def test_the_example_inventory_declares_what_site_yml_needs():
    """inventories/example parses, and names every variable site.yml's plays need for its cluster."""
    inventory = Path(sys.executable).parent / "ansible-inventory"
    listing = subprocess.run([str(inventory), "-i", str(ROOT / "inventories/example"), "--list"], check=True,
                             capture_output=True, text=True).stdout
    hostvars = yaml.safe_load(listing)["_meta"]["hostvars"]
    needed = {"lb1": ["lvs_mode", "lvs_director_services", "lvs_directors_vrrp", "lvs_director_table_owner",
                      "ntp_prereqs_time_sources", "ntp_prereqs_interfaces"],
              "web1": ["lvs_mode", "lvs_realserver_dr_vips", "lvs_directors_ha", "ntp_prereqs_time_sources"]}
    for host, names in needed.items():
        assert not [name for name in names if name not in hostvars[host]], (host, hostvars[host])


def site_groups() -> set[str]:
    """The inventory groups site.yml's plays (and the playbooks it imports) run on, but for the groups the plays
    make themselves (group_by)."""
    groups, playbooks = set(), [ROOT / "site.yml"]
    while playbooks:
        for play in yaml.safe_load(playbooks.pop().read_text()):
            imported = play.get("ansible.builtin.import_playbook") or play.get("import_playbook")
            if imported:
                # site.yml names playbooks/X.yml from the top; the playbooks' own imports are beside them.
                playbooks.append(ROOT / (imported if imported.startswith("playbooks/") else f"playbooks/{imported}"))
                continue
            groups |= {pattern.lstrip("&!") for pattern in play["hosts"].split(":")}
    return {group for group in groups if group != "all" and not group.startswith("lvs_cluster_handback_")}


@pytest.mark.parametrize("inventory", ["inventories/example", "inventories/lab"])
def test_every_group_site_yml_runs_on_is_declared(inventory):
    """Every topology's group is declared (empty where the inventory builds no such topology), so that site.yml
    warns of no missing group; the lab's switches add hosts to them."""
    listing = subprocess.run([str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(ROOT / inventory),
                              "--list"], check=True, capture_output=True, text=True).stdout
    declared = set(yaml.safe_load(listing)["all"]["children"])
    groups = site_groups()
    assert {"directors", "realservers", "keepalived_pair", "nginx_pair", "nginx_backends", "heartbeat_pair"} <= groups
    assert groups <= declared, groups - declared


@pytest.mark.parametrize("target", sorted(path.name for path in TARGETS.iterdir() if path.is_dir()))
def test_every_integration_target_is_found_and_asserts(target):
    """tests/integration/test_targets.py runs every target with an aliases file; each decides with its asserts."""
    assert (TARGETS / target / "aliases").is_file()
    tasks = yaml.safe_load((TARGETS / target / "tasks/main.yml").read_text())
    assert any("ansible.builtin.assert" in task for task in tasks), f"{target} asserts nothing"


@pytest.mark.parametrize("role", sorted(path.name for path in (ROOT / "roles").iterdir()))
def test_every_role_has_its_documentation_and_api(role):
    for name in ("README.md", "meta/argument_specs.yml", "meta/main.yml", "defaults/main.yml"):
        assert (ROOT / "roles" / role / name).is_file(), name


def test_the_role_specs_hold_the_declared_fields():
    """lvs_director_services and keepalived_ha_instances/_scripts in meta/argument_specs.yml are written from the
    field declarations (tools/role_specs.py); a field declared and not written there fails here."""
    sys.path.insert(0, str(ROOT / "tools"))
    import role_specs

    assert role_specs.main(["--check"]) == 0


TEMPLATES = sorted(str(path.relative_to(ROOT)) for path in ROOT.glob("roles/*/templates/**/*.j2"))


@pytest.mark.parametrize("template", TEMPLATES)
def test_templates_are_named_by_their_target_and_say_they_are_managed(template):
    role, _templates, *target = Path(template).parts[1:]
    # A template is named where it is written or rendered: in a task, or in the role's vars (a loop of several, or
    # the text node_state compares and copy writes).
    tasks = "".join(path.read_text() for path in (ROOT / "roles" / role).glob("*/*.yml")
                    if path.parent.name in ("tasks", "vars"))
    path = "/".join(target)
    assert f"src: {path}" in tasks or f"lookup('ansible.builtin.template', '{path}')" in tasks, template
    assert path.startswith(("etc/", "usr/", "var/")), template
    assert "{{ ansible_managed | comment }}" in (ROOT / template).read_text().splitlines()[:2], template


# The roles scripts/run-tests' stage trixie runs on Debian 13 guests: site.yml's HA LVS-DR cluster (the
# prerequisites, the director pair, DR real servers with their boot units and demo pages), the keepalived pair
# and the heartbeat pair.
ON_TRIXIE = {"platform", "ntp_prereqs", "lvs_director", "lvs_realserver_dr", "boot_unit", "demo_web", "keepalived_ha",
             "heartbeat_ha"}


@pytest.mark.parametrize("role", sorted(path.name for path in (ROOT / "roles").iterdir()))
def test_roles_claim_only_what_the_suite_runs(role):
    meta = yaml.safe_load((ROOT / "roles" / role / "meta/main.yml").read_text())["galaxy_info"]
    versions = ["bookworm", "trixie"] if role in ON_TRIXIE else ["bookworm"]
    assert meta["platforms"] == [{"name": "Debian", "versions": versions}]
    runtime = yaml.safe_load((ROOT / "meta/runtime.yml").read_text())["requires_ansible"]
    assert runtime == f">={meta['min_ansible_version']}.0"


@pytest.mark.parametrize("role", sorted(path.name for path in (ROOT / "roles").iterdir()))
def test_every_role_readme_names_its_requirements_and_the_platforms_it_claims(role):
    """A role's README has Requirements and Platforms, and the platforms are those its meta/main.yml claims."""
    readme = (ROOT / "roles" / role / "README.md").read_text()
    assert "\n## Requirements\n" in readme and "\n## Platforms\n" in readme
    platforms = readme.split("\n## Platforms\n", 1)[1].split("\n## ", 1)[0]
    meta = yaml.safe_load((ROOT / "roles" / role / "meta/main.yml").read_text())["galaxy_info"]["platforms"]
    names = {"bookworm": "Debian 12 (bookworm)", "trixie": "Debian 13 (trixie)"}
    claimed = [names[version] for platform in meta for version in platform["versions"]]
    assert [name for name in names.values() if name in platforms] == claimed, platforms


MOLECULE = ROOT / "extensions/molecule"


@pytest.mark.parametrize("config", sorted(str(path.relative_to(MOLECULE)) for path in MOLECULE.glob("**/*.yml")
                                          if path.name in ("config.yml", "molecule.yml")))
def test_molecule_configuration_uses_molecule_26_keys(config):
    """What Ansible runs with is under `ansible` (cfg, env, playbooks, executor), not the legacy `provisioner`
    keys Molecule 26 migrates; Docker scenarios take their image from LVS_MOLECULE_IMAGE."""
    text = (MOLECULE / config).read_text()
    provisioner = yaml.safe_load(text).get("provisioner") or {}
    assert not {"ansible_args", "config_options", "env", "playbooks"} & provisioner.keys(), provisioner
    if "name: docker" in text:
        assert '"${LVS_MOLECULE_IMAGE:-lvs-lab/debian-systemd:bookworm}"' in text
