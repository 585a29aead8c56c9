"""The plugin system: hook documentation, loading, broken plugins, listing."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pms_core import hookspecs
from pms_core.context import unit_of_work
from pms_core.hookspecs import hookimpl
from pms_core.plugins import describe_plugins, get_plugin_manager, load_errors
from pms_core.services import patients
from tests.helpers import PracticeFixture

ROOT = Path(__file__).resolve().parents[2]


def hook_names() -> list[str]:
    return sorted(
        name
        for name in dir(hookspecs)
        if getattr(getattr(hookspecs, name), "pms_spec", None) is not None
    )


def test_every_hook_has_a_docstring_and_a_section_in_docs():
    docs = (ROOT / "docs" / "plugins.md").read_text()
    documented = set(re.findall(r"^### (\w+)$", docs, flags=re.M))
    assert hook_names(), "no hooks found"
    for name in hook_names():
        assert (getattr(hookspecs, name).__doc__ or "").strip(), f"{name} has no docstring"
        assert name in documented, f"hook {name} is not documented in docs/plugins.md"
    assert documented <= set(hook_names()), "docs/plugins.md documents hooks that do not exist"


def test_first_party_x12_plugin_is_loaded_from_its_entry_point():
    pm = get_plugin_manager()
    assert load_errors(pm) == []
    info = {p.name: p for p in describe_plugins(pm)}
    assert info["x12"].module == "pms_x12.plugin"
    assert info["x12"].hooks == [
        "register_claim_writers",
        "register_commands",
        "register_eligibility_formats",
        "register_remit_readers",
        "register_response_readers",
        "register_status_formats",
    ]


def test_misspelled_hook_fails_loudly():
    class Typo:
        @hookimpl
        def patient_registerd(self, ctx, patient_id):  # noqa: D401 - deliberate typo
            pass

    with pytest.raises(Exception, match="patient_registerd"):
        get_plugin_manager(extra=(Typo(),))


def _env_with_plugin_dir(tmp_path: Path, module_source: str) -> dict[str, str]:
    """A fake installed distribution whose `pms` entry point is `module_source`."""
    site = tmp_path / "site"
    dist = site / "broken_vendor_plugin-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: broken-vendor-plugin\nVersion: 1.0\n"
    )
    (dist / "entry_points.txt").write_text("[pms]\nbroken_vendor = broken_vendor_mod\n")
    (site / "broken_vendor_mod.py").write_text(module_source)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    return env


def plugins_list_in_a_new_process(env: dict[str, str]) -> subprocess.CompletedProcess:
    """`pms --format json plugins list` as a shell would run it, with `env`."""
    proc = subprocess.run(
        [sys.executable, "-m", "pms_cli", "--format", "json", "plugins", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def test_plugin_that_fails_to_import_is_reported_on_stderr_and_the_rest_works(tmp_path):
    env = _env_with_plugin_dir(tmp_path, "raise ImportError('vendor SDK missing')\n")
    proc = plugins_list_in_a_new_process(env)
    assert "broken_vendor" in proc.stderr and "failed to load" in proc.stderr
    listed = json.loads(proc.stdout)  # stdout stays clean, parseable JSON
    names = {p["name"] for p in listed}
    assert "x12" in names and "broken_vendor" not in names


def test_working_third_party_plugin_is_listed_with_its_hooks_and_version(tmp_path):
    source = textwrap.dedent("""
        from pms_core.hookspecs import hookimpl

        @hookimpl
        def patient_registered(ctx, patient_id):
            pass
    """)
    env = _env_with_plugin_dir(tmp_path, source)
    proc = plugins_list_in_a_new_process(env)
    listed = {p["name"]: p for p in json.loads(proc.stdout)}
    assert listed["broken_vendor"]["hooks"] == ["patient_registered"]
    assert listed["broken_vendor"]["version"] == "1.0"


class Recorder:
    def __init__(self):
        self.calls: list[tuple[str, int]] = []

    @hookimpl
    def patient_registered(self, ctx, patient_id):
        self.calls.append(("registered", patient_id))

    @hookimpl
    def patient_updated(self, ctx, patient_id, fields):
        self.calls.append(("updated", patient_id))


NEW_PATIENT = dict(
    first_name="Ada",
    last_name="Quill",
    dob="1990-05-06",
    sex="F",
    address1="5 Oak St",
    city="Springfield",
    state="IL",
    zip="62701",
    mobile_phone="2175550111",
)


def test_notify_hooks_run_after_commit_and_not_after_rollback(
    engine, practice: PracticeFixture, clock
):
    recorder = Recorder()
    pm = get_plugin_manager(extra=(recorder,))
    with unit_of_work(engine, user_id=practice.users["frontdesk"], pm=pm, clock=clock) as ctx:
        patient = patients.register_patient(ctx, **NEW_PATIENT)
        assert recorder.calls == []  # not before the commit
    assert recorder.calls == [("registered", patient.id)]

    with (
        pytest.raises(RuntimeError),
        unit_of_work(engine, user_id=practice.users["frontdesk"], pm=pm, clock=clock) as ctx,
    ):
        patients.update_patient(ctx, patient_id=patient.id, city="Decatur")
        raise RuntimeError("the caller fails after the service succeeded")
    assert recorder.calls == [("registered", patient.id)]


class Writer:
    """A plugin that records something of its own when a patient is registered."""

    @hookimpl
    def patient_registered(self, ctx, patient_id):
        patients.add_intake_item(
            ctx, patient_id=patient_id, kind="condition", description="flagged by plugin"
        )


class Failing:
    @hookimpl
    def patient_registered(self, ctx, patient_id):
        patients.add_intake_item(
            ctx, patient_id=patient_id, kind="condition", description="never kept"
        )
        raise RuntimeError("plugin bug")


def test_notify_hook_writes_are_committed_and_a_failing_hook_leaves_nothing_locked(
    engine, practice, clock
):
    for plugin, kept in ((Writer(), ["flagged by plugin"]), (Failing(), [])):
        pm = get_plugin_manager(extra=(plugin,))
        with unit_of_work(engine, user_id=practice.users["frontdesk"], pm=pm, clock=clock) as ctx:
            patient = patients.register_patient(
                ctx, **{**NEW_PATIENT, "first_name": type(plugin).__name__}
            )
        with unit_of_work(engine, user_id=practice.users["frontdesk"], clock=clock) as ctx:
            record = patients.get_patient(ctx, patient_id=patient.id)  # a writer: not locked
        assert [i.description for i in record.intake] == kept


class BrokenCommands:
    @hookimpl
    def register_commands(self, cli):
        raise RuntimeError("vendor bug")


def test_a_plugin_failing_to_add_commands_leaves_the_rest_working(capsys):
    from tests.cli_helpers import run_cli

    pm = get_plugin_manager(extra=(BrokenCommands(),))
    result = run_cli(["--format", "json", "plugins", "list"], pm=pm)
    assert result.exit_code == 0
    assert "could not add its commands: RuntimeError" in capsys.readouterr().err
    assert "x12" in {p["name"] for p in json.loads(result.stdout)}
