"""The pure builders of the local sandbox's view of the host: the allow-list of mounts, the bubblewrap
command line made from it, and the user-namespace maps. No process is started here."""

from __future__ import annotations

import json

import pytest

from code_interpreter.sandboxes.local import host_view
from code_interpreter.sandboxes.local.host_view import Mount

LAYOUT = {"executable": "/opt/py/bin/python3", "roots": ["/opt/py", "/tmp/ci/.venv"]}
CFG = {"env": {"PATH": "/usr/bin", "HOME": "/tmp"}, "mode": "bwrap"}


def test_the_view_is_an_allow_list_in_a_safe_order():
    view = host_view.sandbox_view(LAYOUT, thp_dir=None)
    dests = [m.dest for m in view]
    # Only system directories, the interpreter's roots (and their parents), /tmp, /dev and /proc.
    allowed_prefixes = (*host_view.SYSTEM_DIRS, "/opt", "/tmp", "/dev", "/proc")
    assert all(d.startswith(allowed_prefixes) for d in dests), dests
    assert Mount("ro-bind", "/opt/py", src="/opt/py") in view
    assert Mount("ro-bind", "/usr", src="/usr") in view
    assert all(m.op != "ro-bind" or m.src == m.dest for m in view)  # shown where they are on the host
    # The private /tmp comes before an environment under the host's /tmp, or it would hide it.
    assert dests.index("/tmp") < dests.index("/tmp/ci") < dests.index("/tmp/ci/.venv")
    assert [m.op for m in view[-2:]] == ["dev", "proc"]
    assert not any(m.dest in ("/home", "/root", "/var", "/run", "/mnt") for m in view)


def test_symlinked_system_dirs_stay_symlinks(tmp_path, monkeypatch):
    usr = tmp_path / "usr"
    usr.mkdir()
    lib = tmp_path / "lib"
    lib.symlink_to("usr/lib")
    monkeypatch.setattr(host_view, "SYSTEM_DIRS", (str(usr), str(lib)))
    view = host_view.sandbox_view({"roots": []}, thp_dir=None)
    assert Mount("ro-bind", str(usr), src=str(usr)) in view
    assert Mount("symlink", str(lib), src="usr/lib") in view


def test_bwrap_argv_follows_the_view_and_unshares_everything():
    view = host_view.sandbox_view(LAYOUT, thp_dir=None)
    argv = host_view.bwrap_argv(view, LAYOUT["executable"], CFG, None)
    assert argv[0] == "bwrap"
    for flag in ("--unshare-user", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"):
        assert flag in argv
    assert "--die-with-parent" in argv and "--new-session" in argv and "--clearenv" in argv
    pairs = [(argv[i], argv[i + 1], argv[i + 2]) for i in range(len(argv) - 2) if argv[i] == "--ro-bind"]
    assert ("--ro-bind", "/opt/py", "/opt/py") in pairs
    assert argv.index("--tmpfs") < argv.index("/tmp/ci/.venv")
    cmd = argv[argv.index("--") + 1 :]
    assert cmd[0] == LAYOUT["executable"] and json.loads(cmd[-1]) == CFG
    assert "HOME" in argv and argv[argv.index("HOME") + 1] == "/tmp"  # --setenv HOME /tmp


def test_bwrap_argv_on_a_root_host_joins_the_prepared_namespace():
    argv = host_view.bwrap_argv([Mount("proc", "/proc")], "/usr/bin/python3", CFG, 7)
    assert argv[1:7] == ["--userns", "7", "--uid", "0", "--gid", "0"]
    assert "--unshare-user" not in argv


def test_unknown_view_steps_are_refused():
    with pytest.raises(ValueError, match="unknown view step"):
        host_view.bwrap_argv([Mount("bind-rw", "/x", src="/x")], "/usr/bin/python3", CFG, None)


def test_userns_map_never_gives_the_sandbox_host_root_beyond_setup():
    text = host_view.userns_map(65534, 1_800_000_000, 40)
    lines = [tuple(map(int, line.split())) for line in text.splitlines()]
    assert lines == [(0, 0, 1), (host_view.WORKER_NS_UID, 65534, 1), (host_view.SLOT_NS_UID_BASE, 1_800_000_000, 40)]
    assert host_view.userns_map(65534, 0, 0).splitlines() == ["0 0 1", f"{host_view.WORKER_NS_UID} 65534 1"]


@pytest.mark.parametrize(
    "worker, base, count", [(1_800_000_005, 1_800_000_000, 40), (65534, 0, 4), (65534, 2**32 - 10, 40)]
)
def test_userns_map_refuses_overlapping_or_invalid_ranges(worker, base, count):
    with pytest.raises(ValueError, match="slot uids"):
        host_view.userns_map(worker, base, count)


def test_view_survives_json_for_the_worker():
    view = host_view.sandbox_view(LAYOUT, thp_dir=None)
    assert [Mount(**m) for m in json.loads(json.dumps(host_view.view_to_json(view)))] == view
