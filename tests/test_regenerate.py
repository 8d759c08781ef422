"""`zgen new` on an existing app: three-way merges, conflicts, dry runs, crash safety.

The oracle for merges is the user's own lines: every line a (simulated) user adds or changes
carries a unique marker, and after every regeneration each marker must still be in their file
(a clean merge) or their file must be byte for byte what they left (a conflict, with zgen's version
beside it). Crash safety is checked by killing zgen with SIGKILL at every step of its writing.
"""
from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ANOMALY
from zgen.cli import main
from zgen.codegen.lock import TXN_DIR, Lock, recover, sha256

NEW = ".zgen-new"


def _new(manifest, out, *extra) -> int:
    return main(["new", str(manifest), "-o", str(out), *extra])


def _tree(app: Path) -> dict[str, bytes]:
    return {p.relative_to(app).as_posix(): p.read_bytes() for p in sorted(app.rglob("*"))
            if p.is_file() and not p.relative_to(app).as_posix().startswith(TXN_DIR)}


@pytest.fixture
def sample(tmp_path) -> Path:
    """The anomaly sample with 4 s of its test data (generation is quicker; nothing else changes)."""
    dst = tmp_path / "sample"
    shutil.copytree(ANOMALY.parent, dst, ignore=shutil.ignore_patterns("train.csv", "val.csv", "__pycache__"))
    lines = (dst / "data/test.csv").read_text().splitlines(keepends=True)
    (dst / "data/test.csv").write_text("".join(lines[:801]))
    return dst / "anomaly.yaml"


def _set_threshold(manifest: Path, value: str) -> None:
    text = manifest.read_text()
    manifest.write_text(re.sub(r"threshold: \{above: [0-9.]+\}", f"threshold: {{above: {value}}}", text))


# --- merges ----------------------------------------------------------------------------------------

def test_edits_elsewhere_in_a_changed_file_are_merged(sample, tmp_path, capsys):
    out = tmp_path / "app"
    assert _new(sample, out) == 0
    pipeline = out / "src/pipeline.c"
    text = pipeline.read_text()
    mine = "/* my tuning: keep the first channel hot */\n"
    pipeline.write_text(mine + text + "/* end of my notes */\n")
    _set_threshold(sample, "0.05")
    capsys.readouterr()
    assert _new(sample, out) == 0
    report = capsys.readouterr().out
    assert "merged zgen's changes into your edits: src/pipeline.c" in report
    merged = pipeline.read_text()
    assert merged.startswith(mine) and merged.endswith("/* end of my notes */\n")
    assert ".threshold = 0.05f" in merged and ".threshold = 0.03f" not in merged
    assert not (out / ("src/pipeline.c" + NEW)).exists()
    # The base is now the new generation: a second run changes nothing.
    before = _tree(out)
    assert _new(sample, out) == 0
    assert _tree(out) == before


def test_a_conflict_keeps_the_users_file_and_writes_zgens_beside_it(sample, tmp_path, capsys):
    out = tmp_path / "app"
    assert _new(sample, out) == 0
    pipeline = out / "src/pipeline.c"
    mine = pipeline.read_text().replace(".threshold = 0.03f", ".threshold = 0.04f")
    pipeline.write_text(mine)
    _set_threshold(sample, "0.05")
    capsys.readouterr()
    assert _new(sample, out) == 1
    err = capsys.readouterr().err
    assert f"{pipeline}: your edits and zgen's changes conflict" in err and f"{pipeline}{NEW}" in err
    assert pipeline.read_text() == mine
    beside = (out / ("src/pipeline.c" + NEW)).read_text()
    assert re.search(r"<<<<<<< your version\n\t\.threshold = 0\.04f,\n=======\n\t\.threshold = 0\.05f,\n"
                     r">>>>>>> zgen new\n", beside)
    # Every other file was updated; running again meets the same conflict (the base stays).
    assert _new(sample, out) == 1
    assert pipeline.read_text() == mine
    # The user resolves it (takes zgen's line) and deletes zgen's copy: the next run is clean.
    pipeline.write_text(mine.replace("0.04f", "0.05f") + "/* resolved */\n")
    (out / ("src/pipeline.c" + NEW)).unlink()
    capsys.readouterr()
    assert _new(sample, out) == 0
    assert pipeline.read_text().endswith("/* resolved */\n")
    lock = Lock.read(out)
    assert lock.files["src/pipeline.c"] == sha256((out / ".zgen/base/src/pipeline.c.base").read_bytes())


def test_a_resolved_conflict_left_beside_is_cleared(sample, tmp_path):
    out = tmp_path / "app"
    assert _new(sample, out) == 0
    pipeline = out / "src/pipeline.c"
    pipeline.write_text(pipeline.read_text().replace(".threshold = 0.03f", ".threshold = 0.04f"))
    _set_threshold(sample, "0.05")
    assert _new(sample, out) == 1
    pipeline.write_text(pipeline.read_text().replace("0.04f", "0.05f"))  # resolved, copy left behind
    assert _new(sample, out) == 0
    assert not (out / ("src/pipeline.c" + NEW)).exists()


def test_a_file_the_user_put_where_zgen_now_writes_is_never_taken(sample, tmp_path, capsys):
    """No base (zgen never wrote that path): a conflict, every run, until the user decides."""
    out = tmp_path / "app"
    assert _new(sample, out) == 0
    lock = Lock.read(out)
    rel = "src/replay_data.c"
    (out / rel).write_text("/* mine */\n")
    # Pretend zgen never generated it (an app from before the file existed).
    (out / ".zgen/base" / (rel + ".base")).unlink()
    lock.files.pop(rel)
    (out / "zgen.lock").write_text(lock.dumps())
    for _ in range(2):
        assert _new(sample, out) == 1
        assert (out / rel).read_text() == "/* mine */\n"
        assert "/* mine */" in (out / (rel + NEW)).read_text()


def test_dry_run_writes_nothing_and_shows_the_diff(sample, tmp_path, capsys):
    out = tmp_path / "app"
    assert _new(sample, out) == 0
    before = _tree(out)
    _set_threshold(sample, "0.05")
    capsys.readouterr()
    assert _new(sample, out, "--dry-run") == 0
    shown = capsys.readouterr().out
    assert "-\t.threshold = 0.03f,\n+\t.threshold = 0.05f,\n" in shown
    assert "dry run, nothing written" in shown and "1 updated" in shown
    assert _tree(out) == before


def test_force_still_overwrites(sample, tmp_path, capsys):
    out = tmp_path / "app"
    assert _new(sample, out) == 0
    (out / "src/pipeline.c").write_text("/* mine */\n")
    _set_threshold(sample, "0.05")
    assert _new(sample, out, "--force") == 0
    assert ".threshold = 0.05f" in (out / "src/pipeline.c").read_text()


def test_an_edited_file_zgen_no_longer_generates_is_kept(sample, tmp_path, capsys):
    out = tmp_path / "app"
    assert _new(sample, out) == 0
    lock = Lock.read(out)
    lock.files["src/old_helper.c"] = sha256(b"/* zgen's */\n")
    (out / "src/old_helper.c").write_text("/* zgen's, then mine */\n")
    (out / "zgen.lock").write_text(lock.dumps())
    capsys.readouterr()
    assert _new(sample, out) == 0
    assert "kept your edited src/old_helper.c: zgen no longer generates it" in capsys.readouterr().out
    assert (out / "src/old_helper.c").exists() and "src/old_helper.c" not in Lock.read(out).files


def test_symlinks_in_the_app_are_not_followed_out(sample, tmp_path):
    out = tmp_path / "app"
    assert _new(sample, out) == 0
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.rmtree(out / "boards")
    (out / "boards").symlink_to(outside, target_is_directory=True)
    _set_threshold(sample, "0.05")
    assert _new(sample, out) == 2
    assert list(outside.iterdir()) == []


# --- random sequences of manifest changes and user edits -------------------------------------------

EDITED = {"src/main.cpp": "//", "prj.conf": "#", "CMakeLists.txt": "#",
          "boards/nrf52840dk_nrf52840.overlay": "//"}


def _manifest_change(rng: random.Random, manifest: Path, models: list[Path]) -> str:
    text = manifest.read_text()
    kind = rng.choice(["rate", "threshold", "debounce", "feature", "outputs", "model"])
    if kind == "rate":
        text = re.sub(r"rate_hz: \d+", f"rate_hz: {rng.choice([100, 200, 400])}", text)
    elif kind == "threshold":
        text = re.sub(r"\{above: [0-9.]+\}", f"{{above: {rng.choice(['0.02', '0.03', '0.05', '0.08'])}}}", text)
    elif kind == "debounce":
        text = re.sub(r"debounce: \{count: \d+\}", f"debounce: {{count: {rng.randint(1, 5)}}}", text)
    elif kind == "feature":
        text = re.sub(r"std: \[[^\]]*\]", f"std: [{rng.choice(['0.25', '0.3'])}, 0.2, {rng.choice(['0.1', '0.12'])}]",
                      text)
    elif kind == "outputs":
        text = text.replace("  - led: led0\n", "") if "led: led0" in text else text.replace(
            "  - log\n", "  - log\n  - led: led0\n")
    else:
        current = re.search(r"file: (model/\S+)", text).group(1)
        text = text.replace(f"file: {current}", f"file: model/{rng.choice([m.name for m in models])}")
    manifest.write_text(text)
    return kind


def _user_edit(rng: random.Random, app: Path, markers: dict[str, set[str]], n: int) -> None:
    rel = rng.choice(sorted(EDITED))
    path = app / rel
    lines = path.read_text().splitlines(keepends=True)
    comment = EDITED[rel]
    marker = f"user-edit-{n}"
    op = rng.choice(["add", "change", "delete"])
    plain = [i for i, l in enumerate(lines) if "user-edit-" not in l and not l.rstrip().endswith("\\")]
    if op == "add" or not plain:
        i = rng.randint(0, len(lines))
        lines.insert(i, f"{comment} {marker}\n")
    elif op == "change":
        i = rng.choice(plain)
        lines[i] = f"{comment} {marker} (was: {lines[i].strip()[:40]})\n"
    else:
        del lines[rng.choice(plain)]
        marker = None
    path.write_text("".join(lines))
    if marker:
        markers.setdefault(rel, set()).add(marker)


def _resolve(app: Path) -> None:
    """A user resolving every conflict by keeping both sides, then deleting zgen's copy."""
    for beside in app.rglob("*" + NEW):
        text = beside.read_text()
        text = re.sub(r"^(<<<<<<< your version|=======|>>>>>>> zgen new)\n", "", text, flags=re.M)
        beside.with_name(beside.name[:-len(NEW)]).write_text(text)
        beside.unlink()


def test_no_user_line_is_ever_lost(sample, tmp_path, capsys):
    """100 seeded sequences of manifest changes (rate, feature scaling, threshold, debounce,
    outputs, model) and user edits (lines added, changed, deleted in main.cpp, prj.conf,
    CMakeLists.txt and the board overlay)."""
    models = [sample.parent / "model/anomaly.tflite", sample.parent / "model/anomaly_b.tflite"]
    # The same network, other bytes: a model change as zgen sees it (model_data.cc changes).
    models[1].write_bytes(models[0].read_bytes() + b"\0" * 16)
    pristine = sample.read_text()
    outcomes = {"merged": 0, "conflict": 0, "regenerations": 0, "edits": 0}
    for seq in range(100):
        rng = random.Random(seq)
        sample.write_text(pristine)
        app = tmp_path / f"app{seq}"
        assert _new(sample, app) == 0
        markers: dict[str, set[str]] = {}
        n = 0
        for _ in range(rng.randint(1, 3)):
            for _ in range(rng.randint(1, 3)):
                n += 1
                outcomes["edits"] += 1
                _user_edit(rng, app, markers, n)
            users = {rel: (app / rel).read_bytes() for rel in EDITED}
            _manifest_change(rng, sample, models)
            capsys.readouterr()
            rc = _new(sample, app)
            out = capsys.readouterr()
            outcomes["regenerations"] += 1
            assert rc in (0, 1), out.err
            outcomes["merged"] += out.out.count("merged zgen's changes")
            for rel in EDITED:
                text = (app / rel).read_text()
                if (app / (rel + NEW)).exists():
                    outcomes["conflict"] += 1
                    assert (app / rel).read_bytes() == users[rel], (seq, rel)
                for marker in markers.get(rel, ()):
                    assert marker in text, (seq, rel, marker)
            assert not (app / TXN_DIR).exists()
            _resolve(app)
        shutil.rmtree(app)
    print(outcomes)
    # The sequences exercised both outcomes (else the property says little).
    assert outcomes["merged"] >= 20 and outcomes["conflict"] >= 5, outcomes


# --- crash safety --------------------------------------------------------------------------------

def _killed_at(step: int, argv: list[str]) -> int:
    """Run zgen in a forked child that SIGKILLs itself at writing step `step`; its wait status."""
    pid = os.fork()
    if pid == 0:  # the child
        os.environ["ZGEN_TEST_KILL_AT"] = str(step)
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            os._exit(main(argv))
        except BaseException:
            os._exit(99)
    _, status = os.waitpid(pid, 0)
    return status


def _steps(argv, monkeypatch) -> int:
    """How many writing steps a run takes, counted in-process on a throwaway copy."""
    import zgen.codegen.write as write

    count = [0]
    real = write._Steps.__call__

    def counting(self):
        count[0] += 1
        real(self)

    with monkeypatch.context() as m:
        m.setattr(write._Steps, "__call__", counting)
        assert main(argv) in (0, 1)
    return count[0]


def _old_and_new(sample, out, tmp_path) -> tuple[Path, dict, dict]:
    """The app `out` as it is (a copy kept in tmp_path/old) and the tree a complete `zgen new`
    of the (already changed) sample makes of it."""
    saved = tmp_path / "old"
    shutil.copytree(out, saved)
    reference = tmp_path / "reference"
    shutil.copytree(saved, reference)
    assert _new(sample, reference) == 0
    return saved, _tree(saved), _tree(reference)


def test_an_update_killed_at_any_step_leaves_the_old_app_or_the_new(sample, tmp_path, monkeypatch):
    out = tmp_path / "app"
    assert _new(sample, out) == 0
    (out / "src/main.cpp").write_text("// mine\n" + (out / "src/main.cpp").read_text())
    (out / "notes.txt").write_text("mine")
    # A change that touches several files: rate (overlay, pipeline, tests) and the outputs.
    sample.write_text(sample.read_text().replace("rate_hz: 200", "rate_hz: 400").replace("  - led: led0\n", ""))
    saved, old, new = _old_and_new(sample, out, tmp_path)
    assert new != old
    argv = ["new", str(sample), "-o", str(out)]
    probe = tmp_path / "probe"
    shutil.copytree(saved, probe)
    n = _steps(["new", str(sample), "-o", str(probe)], monkeypatch)
    assert n > 10
    seen = {"old": 0, "new": 0}
    for step in range(1, n + 1):
        shutil.rmtree(out)
        shutil.copytree(saved, out)
        status = _killed_at(step, argv)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, step
        # Every file is whole: old or new, never torn.
        for rel, data in _tree(out).items():
            assert data in (old.get(rel), new.get(rel)), (step, rel)
        recover(out)
        after = _tree(out)
        assert after in (old, new), step
        seen["old" if after == old else "new"] += 1
        # The next run finishes the job as if nothing had happened.
        assert _new(sample, out) == 0
        assert _tree(out) == new, step
    print(n, "kill points:", seen)
    assert seen["old"] and seen["new"]


def test_a_first_generation_killed_at_any_step_leaves_no_app(sample, tmp_path, monkeypatch):
    out = tmp_path / "app"
    argv = ["new", str(sample), "-o", str(out)]
    n = _steps(argv, monkeypatch)
    shutil.rmtree(out)
    reference = tmp_path / "reference"
    assert _new(sample, reference) == 0
    points = sorted(set(range(1, n + 1, 3)) | {n - 2, n - 1, n})  # each file's staging, every third
    for step in points:
        status = _killed_at(step, argv)
        assert os.WIFSIGNALED(status), step
        assert not out.exists() or _tree(out) == _tree(reference), step
        assert _new(sample, out) == 0
        assert _tree(out) == _tree(reference)
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".app.")] == [], step
        shutil.rmtree(out)
    print(n, "steps,", len(points), "kill points")


def test_zgen_killed_from_outside_at_random_times(sample, tmp_path):
    """SIGKILL from another process, at times spread over a whole run."""
    out = tmp_path / "app"
    assert _new(sample, out) == 0
    sample.write_text(sample.read_text().replace("rate_hz: 200", "rate_hz: 400"))
    saved, old, new = _old_and_new(sample, out, tmp_path)
    cmd = [sys.executable, "-m", "zgen", "new", str(sample), "-o", str(out)]
    t0 = time.monotonic()
    subprocess.run(cmd, capture_output=True, check=True)
    whole = time.monotonic() - t0
    rng = random.Random(7)
    for i in range(12):
        shutil.rmtree(out)
        shutil.copytree(saved, out)
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 1.0) * whole)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        recover(out)
        assert _tree(out) in (old, new), i
        assert _new(sample, out) == 0 and _tree(out) == new


# --- merged apps build ---------------------------------------------------------------------------

@pytest.mark.firmware
def test_merged_apps_build(firmware_workspace, sample, tmp_path, capsys):
    """A sample of the merged apps built for real (native_sim, then qemu_cortex_m3): seeded
    sequences whose user edits keep the code valid (comment lines added, blank lines deleted),
    regenerated after manifest changes until a clean merge touched an edited file."""
    from zgen import boards
    from zgen.testing.base import get_runner

    from test_firmware import APP

    models = [sample.parent / "model/anomaly.tflite", sample.parent / "model/anomaly_b.tflite"]
    models[1].write_bytes(models[0].read_bytes() + b"\0" * 16)
    pristine = sample.read_text()
    built = 0
    for seq, board in ((0, "native_sim"), (1, "qemu_cortex_m3")):
        rng = random.Random(1000 + seq)
        sample.write_text(pristine)
        # Beside the other firmware-test apps, so ccache shares their objects.
        app = APP.parent / "merged" / f"seq{seq}"
        shutil.rmtree(app, ignore_errors=True)
        assert _new(sample, app) == 0
        merged = 0
        for n in range(12):
            rel = rng.choice(sorted(EDITED))
            lines = (app / rel).read_text().splitlines(keepends=True)
            safe = [i for i in range(len(lines) + 1) if i == 0 or not lines[i - 1].rstrip().endswith("\\")]
            lines.insert(rng.choice(safe), f"{EDITED[rel]} user-edit-{n}\n")
            blank = [i for i, l in enumerate(lines) if not l.strip()]
            if blank and rng.random() < 0.5:
                del lines[rng.choice(blank)]
            (app / rel).write_text("".join(lines))
            _manifest_change(rng, sample, models)
            capsys.readouterr()
            rc = _new(sample, app)
            merged += capsys.readouterr().out.count("merged zgen's changes")
            while rc == 1:  # resolved by taking zgen's side of each conflict
                for beside in app.rglob("*" + NEW):
                    text = re.sub(r"<<<<<<< your version\n.*?=======\n(.*?)>>>>>>> zgen new\n", r"\1",
                                  beside.read_text(), flags=re.S)
                    beside.with_name(beside.name[:-len(NEW)]).write_text(text)
                    beside.unlink()
                rc = _new(sample, app)
        assert merged, "no clean merge in this sequence"
        target = boards.get(board)
        runner = get_runner("native_sim" if board == "native_sim" else "qemu")(app, target, firmware_workspace)
        result = runner.build()
        assert not result.warnings, result.warnings
        built += 1
    assert built == 2
