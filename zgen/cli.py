"""The zgen command line. Each subcommand parses its arguments and calls one
module; errors become messages and exit codes here, nowhere else:
0 success, 1 a failed check or tool, 2 bad input."""
from __future__ import annotations

import argparse
import gc
import json
import os
import re
import sys
from pathlib import Path

from zgen import __version__
from zgen.errors import ToolError, ZgenError


def _warn(messages: list[str]) -> None:
    for message in messages:
        print(f"zgen: warning: {message}", file=sys.stderr)


def cmd_new(args) -> int:
    from zgen.codegen import generate
    from zgen.codegen.write import NEW_SUFFIX
    from zgen.manifest import load_manifest

    m = load_manifest(args.manifest, board=args.board)
    _warn(m.saturation_warnings())
    if "float32" in (m.model.inputs[0].dtype, m.model.outputs[0].dtype):
        _warn([f"{m.model.path.name} is a float32 model ({m.model.size} bytes): TFLM runs it, but an int8 model "
               "is about 4x smaller and much faster on a Cortex-M; `zgen model convert` makes one"])
    out = Path(args.output) if args.output else Path.cwd() / m.name
    report, arena = generate(m, out, force=args.force, dry_run=args.dry_run)
    _warn(report.warnings)
    if report.recovered == "completed":
        print(f"{out}: completed the update an interrupted zgen had committed")
    elif report.recovered == "discarded":
        print(f"{out}: discarded an update an interrupted zgen had not committed")
    if args.dry_run:
        for rel, diff in report.diffs.items():
            sys.stdout.write(diff)
        print(f"{out} (dry run, nothing written): {len(report.created)} would be created, "
              f"{len(report.updated)} updated, {len(report.merged)} merged, {len(report.conflicts)} in conflict, "
              f"{len(report.unchanged)} unchanged, {len(report.removed)} removed")
    else:
        print(f"{out}: {len(report.created)} created, {len(report.updated)} updated, {len(report.merged)} merged, "
              f"{len(report.unchanged)} unchanged, {len(report.removed)} removed (arena {arena} bytes)")
    for rel in report.merged:
        print(f"  merged zgen's changes into your edits: {rel}")
    for rel in report.overwritten_edits:
        print(f"  overwrote your edits (--force): {rel}")
    for rel in report.kept_edits:
        print(f"  kept your edits: {rel}")
    for rel in report.kept_unused:
        print(f"  kept your edited {rel}: zgen no longer generates it")
    if report.conflicts and args.dry_run:
        for rel in report.conflicts:
            print(f"zgen: {out / rel}: your edits and zgen's changes would conflict; zgen new would leave your "
                  f"file as it is and write {out / rel}{NEW_SUFFIX} with conflict markers", file=sys.stderr)
        return 1
    if report.conflicts:
        for rel in report.conflicts:
            print(f"zgen: {out / rel}: your edits and zgen's changes conflict; your file is unchanged, zgen's "
                  f"version with conflict markers is {out / rel}{NEW_SUFFIX}: merge it into yours, delete "
                  f"{rel}{NEW_SUFFIX}, and run zgen new again", file=sys.stderr)
        return 1
    return 0


def cmd_simulate(args) -> int:
    from zgen.manifest import load_manifest
    from zgen.simulate import run

    m = load_manifest(args.manifest, data=Path(args.data) if args.data else None)
    _warn(m.saturation_warnings())
    sim = run(m)
    if args.plot:
        from zgen.plot import plot

        print(f"zgen: wrote {plot(m, sim, Path(args.plot))}", file=sys.stderr)
    # One write: line by line, an unbuffered stdout (PYTHONUNBUFFERED) makes a system call of each.
    if args.json:
        sys.stdout.write(json.dumps({"lines": sim.lines,
                                     "windows": [{"t": w.t, "score": w.score, "changed": w.changed, "event": w.event,
                                                  "features": w.features, "outputs": w.outputs}
                                                 for w in sim.windows]}, indent=1) + "\n")
    else:
        sys.stdout.write("".join(line + "\n" for line in sim.lines))
    return 0


def cmd_test(args) -> int:
    from zgen.testing.session import run_test

    if args.twister:
        return _test_twister(args)
    if args.boards or args.subset:
        raise ZgenError.at("--boards", None, None, "--boards and --subset go with --twister",
                           "add --twister, or use --board with --sim")
    outcome = run_test(Path(args.app), args.sim, board=args.board, timeout=args.timeout, progress=sys.stderr)
    if outcome.arena:
        print(f"firmware arena: {outcome.arena[0]} of {outcome.arena[1]} bytes used")
    if outcome.comparison.diff:
        print(outcome.comparison.diff, end="")
    for p in outcome.problems:
        print(f"FAIL: {p}")
    n = len(outcome.run.lines)
    print(f"{'PASS' if outcome.passed else 'FAIL'}: {n} event lines from {args.sim} in "
          f"{outcome.run.seconds:.1f} s" + (", identical to zgen simulate" if outcome.comparison.equal else ""))
    return 0 if outcome.passed else 1


def _test_twister(args) -> int:
    from zgen.testing.twister import run_twister
    from zgen.workspace import require_workspace

    if args.subset and not re.fullmatch(r"[1-9]\d*/[1-9]\d*", args.subset):
        raise ZgenError.at("--subset", None, None, f"'{args.subset}' is not N/M", "e.g. --subset 1/4")
    ws = require_workspace()
    outcome = run_twister(Path(args.app), ws, args.boards, args.subset, timeout=max(args.timeout or 0, 5400))
    for gap in outcome.left_out:
        print(f"left out: {gap}")
    for r in outcome.results:
        print(f"{r.status:>8}  {r.platform:<24} {r.scenario}" + (f"  ({r.reason})" if r.reason else ""))
    ran = outcome.ran
    print(f"{'PASS' if outcome.passed else 'FAIL'}: {sum(r.status == 'passed' for r in ran)} of {len(ran)} "
          f"twister scenario runs passed in {outcome.seconds:.0f} s (Zephyr {ws.version})")
    return 0 if outcome.passed else 1


def cmd_model_inspect(args) -> int:
    from zgen.model.inspect import report, text
    from zgen.model.tflite import ModelFormatError

    path = Path(args.file)
    try:
        r = report(path)
    except FileNotFoundError:
        raise ZgenError.at(str(path), None, None, "no such model file", "check the path") from None
    except ModelFormatError as e:
        raise ZgenError.at(str(path), None, None, str(e), e.fix) from None
    if args.json:
        json.dump(r, sys.stdout, indent=1)
        print()
    else:
        print(text(r))
    return 1 if r["target_limits"] else 0


def cmd_train(args) -> int:
    from zgen.model.train import train

    train(Path(args.manifest), out=Path(args.output) if args.output else None, epochs=args.epochs, seed=args.seed)
    return 0


def cmd_model_convert(args) -> int:
    from zgen.model.convert import convert

    r = convert(Path(args.source), Path(args.manifest), Path(args.output), Path(args.data) if args.data else None)
    print(f"wrote {r.output}: full int8, calibrated on {r.windows} windows of the manifest's features; "
          f"int8 agrees with float on {r.agreement:.1%} (largest output difference {r.max_abs_error:.4f})")
    return 0


def cmd_doctor(args) -> int:
    from dataclasses import asdict

    from zgen.doctor import checks, report

    items = checks()
    if args.json:
        json.dump([asdict(c) for c in items], sys.stdout, indent=1)
        print()
    else:
        print(report(items))
    return 0


def cmd_schema(args) -> int:
    import json

    from zgen.manifest.schema_check import schema

    sys.stdout.write(json.dumps(schema(), indent=2) + "\n")
    return 0


def cmd_check(args) -> int:
    from zgen import boards
    from zgen.memory import check
    from zgen.manifest import load_manifest

    if args.board and boards.get(args.board) is None:
        raise ZgenError.at("--board", None, None, f"board '{args.board}' is not in the catalogue",
                           "`zgen boards` lists the boards")
    m = load_manifest(Path(args.manifest), board=args.board)
    _warn(m.saturation_warnings())
    results = check.plans(m, check.targets(m, args.board, args.all_boards))
    if args.json:
        json.dump(check.as_json(m, results), sys.stdout, indent=1)
        print()
    else:
        print(check.report(m, results))
    return 0 if check.all_fit(results) else 1


def cmd_boards(args) -> int:
    from dataclasses import asdict

    from zgen.boards import catalogue

    boards = catalogue()
    if args.json:
        json.dump([{**asdict(b), "tflm_kernels": b.tflm_kernels} for b in boards.values()], sys.stdout, indent=1)
        print()
        return 0
    width = max(len(name) for name in boards)
    print(f"{'board':<{width}} {'core':<11} {'flash KB':>9} {'RAM KB':>7}  {'TFLM kernels':<12}  simulators")
    for b in boards.values():
        print(f"{b.name:<{width}} {b.core:<11} {b.flash_kb:>9} {b.ram_kb:>7}  {b.tflm_kernels:<12}  "
              f"{', '.join(b.simulators) or '-'}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="zgen", description="Zephyr TinyML apps from one YAML manifest.")
    p.add_argument("--version", action="version", version=f"zgen {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("new", help="validate a manifest and generate (or update) its Zephyr app")
    s.add_argument("manifest")
    s.add_argument("-o", "--output", help="app folder (default: ./NAME)")
    s.add_argument("--board", help="override the manifest's board")
    s.add_argument("--force", action="store_true", help="overwrite files you edited")
    s.add_argument("--dry-run", action="store_true",
                   help="show what would be created, updated, merged or removed (as diffs); write nothing")
    s.add_argument("--allow-path", action="append", default=[], metavar="DIR",
                   help="a folder outside the manifest's whose files the manifest may name (repeatable)")
    s.set_defaults(func=cmd_new)

    s = sub.add_parser("simulate", help="run the pipeline on the host; print the firmware's event lines")
    s.add_argument("manifest")
    s.add_argument("--data", help="CSV to play instead of the manifest's test data")
    s.add_argument("--json", action="store_true", help="lines and per-window scores as JSON")
    s.add_argument("--plot", metavar="PNG", help="draw signal, score, threshold and events")
    s.add_argument("--allow-path", action="append", default=[], metavar="DIR",
                   help="a folder outside the manifest's whose files the manifest may name (repeatable)")
    s.set_defaults(func=cmd_simulate)

    s = sub.add_parser("test", help="build an app, run it in a simulator and compare with `zgen simulate`")
    s.add_argument("app")
    how = s.add_mutually_exclusive_group(required=True)
    how.add_argument("--sim", choices=["native_sim", "qemu", "renode"], help="build for one board and run it")
    how.add_argument("--twister", action="store_true",
                     help="run the app's sample.yaml scenarios with twister in the workspace")
    s.add_argument("--board", help="board to build (default: the simulator's own)")
    s.add_argument("--boards", nargs="+", metavar="BOARD",
                   help="with --twister: boards to run (default: every simulated catalogue board)")
    s.add_argument("--subset", metavar="N/M", help="with --twister: run only the N-th of M slices (CI sharding)")
    s.add_argument("--timeout", type=float, help="seconds the firmware may run (default 300, or 1.5 x the "
                   "recording's duration where the simulator runs in real time)")
    s.add_argument("--allow-path", action="append", default=[], metavar="DIR",
                   help="a folder outside the manifest's whose files the manifest may name (repeatable)")
    s.set_defaults(func=cmd_test)

    s = sub.add_parser("check", help="the memory plan: flash and RAM on the board(s), before any build")
    s.add_argument("manifest")
    which = s.add_mutually_exclusive_group()
    which.add_argument("--board", help="plan for this board (default: the manifest's)")
    which.add_argument("--all-boards", action="store_true", help="plan for every catalogue board")
    s.add_argument("--json", action="store_true")
    s.add_argument("--allow-path", action="append", default=[], metavar="DIR",
                   help="a folder outside the manifest's whose files the manifest may name (repeatable)")
    s.set_defaults(func=cmd_check)

    s = sub.add_parser("model", help="model tools")
    msub = s.add_subparsers(dest="model_command", required=True, metavar="MODEL_COMMAND")
    s = msub.add_parser("inspect", help="ops, tensors, quantisation and measured arena of a .tflite")
    s.add_argument("file")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_model_inspect)
    s = msub.add_parser("convert", help="Keras / SavedModel -> full-int8 .tflite, calibrated on the manifest's data")
    s.add_argument("source", help=".keras, .h5 or a SavedModel folder")
    s.add_argument("--manifest", required=True, help="whose feature pipeline and data calibrate the model")
    s.add_argument("-o", "--output", required=True)
    s.add_argument("--data", help="CSV to calibrate with instead of the manifest's test data")
    s.add_argument("--allow-path", action="append", default=[], metavar="DIR",
                   help="a folder outside the manifest's whose files the manifest may name (repeatable)")
    s.set_defaults(func=cmd_model_convert)

    s = sub.add_parser("train", help="train the manifest's model template on CSV data, quantise to int8")
    s.add_argument("manifest")
    s.add_argument("-o", "--output", help="model file (default: the manifest's model.file)")
    s.add_argument("--epochs", type=int, help="override train.epochs")
    s.add_argument("--seed", type=int, help="override train.seed")
    s.add_argument("--allow-path", action="append", default=[], metavar="DIR",
                   help="a folder outside the manifest's whose files the manifest may name (repeatable)")
    s.set_defaults(func=cmd_train)

    s = sub.add_parser("doctor", help="what is installed (workspace, toolchains, simulators) and how to fix the rest")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_doctor)

    s = sub.add_parser("schema", help="print the manifest's JSON Schema")
    s.set_defaults(func=cmd_schema)

    s = sub.add_parser("boards", help="list the board catalogue")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_boards)
    return p


# A command builds many objects that live until it ends (modules, a record per simulated window)
# and little cyclic garbage: at Python's default pace (a collection every 700 new objects) the
# cyclic collector spent ~6 % of `zgen simulate` on 4,999 windows finding nothing.
GC_PACE = (100_000, 20, 20)


def main(argv: list[str] | None = None) -> int:
    pace = gc.get_threshold()
    if pace[0] >= GC_PACE[0]:  # set already (python -m zgen: for the whole process)
        return _main(argv)
    gc.set_threshold(*GC_PACE)
    try:
        return _main(argv)
    finally:
        gc.set_threshold(*pace)


def _main(argv: list[str] | None) -> int:
    args = parser().parse_args(argv)
    from zgen.manifest import ALLOW_ENV

    before = os.environ.get(ALLOW_ENV)
    if getattr(args, "allow_path", None):
        # Given on the command line: every manifest this command loads may name files there.
        given = [str(Path(d).resolve()) for d in args.allow_path]
        os.environ[ALLOW_ENV] = os.pathsep.join([p for p in (before or "").split(os.pathsep) if p] + given)
    try:
        return _run(args)
    finally:
        if before is None:
            os.environ.pop(ALLOW_ENV, None)
        else:
            os.environ[ALLOW_ENV] = before


def _run(args) -> int:
    try:
        return args.func(args)
    except ZgenError as e:
        for problem in e.problems:
            print(f"zgen: {problem}", file=sys.stderr)
        if args.command == "new":
            print("zgen: nothing was written", file=sys.stderr)
        return e.exit_status
    except ToolError as e:
        print(f"zgen: {e}", file=sys.stderr)
        return e.exit_status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `zgen check ... | head`: the reader left; say nothing more (and not at exit either).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
