"""Which bytes of a firmware each TFLM op brings in, read from a real build.

A build that registers every op TFLM has (bench/all_kernels.py makes one per core and kernel
set) links every kernel. Builds use -ffunction-sections -fdata-sections and --gc-sections, so ld
keeps a function or an object at a time: an input section. From the build's GNU ld map (every
kept input section and its bytes) and `objdump -rt` over the linked archives (each section's
relocations, and where each symbol is defined), this module builds the reference graph between
the kept sections and answers, per op: starting at the section of `tflite::Register_OP()`, every
section reached through relocations that the rest of the app (Zephyr, the app, TFLM's
interpreter: their references to `Register_*` left out) does not already reach. That is what
registering the op adds: its kernel code and tables, CMSIS-NN functions, TFLM helpers, and the C
library functions (expf, soft-float) only kernels call.

Sections reached by the same set of ops are kept together as one part (most are one op's own;
some are shared by a family: the convolutions' helpers), so the plan adds each part once however
many of a model's ops reach it."""
from __future__ import annotations

import re
import subprocess
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

from zgen.memory import mapfile

_MEMBER = re.compile(r"^(\S+\.a)\(([^()]+)\)")
_SYMBOL = re.compile(r"^[0-9a-f]+ (.{7}) (\S+)\t[0-9a-f]+ (.*)$")
_RELOCS = re.compile(r"^RELOCATION RECORDS FOR \[(.+)\]:$")
_FORMAT = re.compile(r"^(.+?):\s+file format ")
_PARSER = re.compile(r"^_ZN6tflite\d+Parse\w")  # tflite::ParseConv2D(...) and the like


def linked_members(map_text: str) -> list[tuple[str, str]]:
    """(archive path, member) of every archive member ld linked, in link order (the map's
    "Archive member included to satisfy reference by file (symbol)" section)."""
    lines = map_text.splitlines()
    try:
        start = lines.index("Archive member included to satisfy reference by file (symbol)")
    except ValueError:
        raise ValueError("the map has no archive member section (not a GNU ld map)") from None
    out: list[tuple[str, str]] = []
    seen = set()
    for line in lines[start + 1:]:
        if line.startswith(("Discarded input sections", "Memory Configuration", "Allocating common symbols")):
            break
        m = _MEMBER.match(line)
        if m and (m.group(1), m.group(2)) not in seen:
            seen.add((m.group(1), m.group(2)))
            out.append((m.group(1), m.group(2)))
    return out


@dataclass
class Member:
    archive: str
    name: str
    # symbol -> (section, kind): kind "l" local, "g" global, "w" weak
    symbols: dict[str, tuple[str, str]] = field(default_factory=dict)
    sections: set[str] = field(default_factory=set)
    relocs: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # section -> symbols

    @property
    def key(self) -> str:
        return f"{self.archive}({self.name})"

    @property
    def stem(self) -> str:
        return self.name.split(".")[0]


def parse_objdump(text: str, archive: str, wanted: set[str]) -> dict[str, Member]:
    """Members of `objdump -rt ARCHIVE` output that are in `wanted`, with their symbols and the
    relocations of their allocated sections (debug sections skipped)."""
    out: dict[str, Member] = {}
    member: Member | None = None
    mode = ""
    section = ""
    for line in text.splitlines():
        if not line:
            mode = ""
            continue
        m = _FORMAT.match(line)
        if m and not line.startswith((" ", "0")):
            name = m.group(1)
            member = out.setdefault(name, Member(archive, name)) if name in wanted else None
            mode = ""
            continue
        if member is None:
            continue
        if line == "SYMBOL TABLE:":
            mode = "symbols"
            continue
        m = _RELOCS.match(line)
        if m:
            section = m.group(1)
            mode = "" if section.startswith((".debug", ".ARM.attributes", ".comment")) else "relocs"
            continue
        if mode == "symbols":
            m = _SYMBOL.match(line)
            if not m:
                continue
            flags, sec, name = m.group(1), m.group(2), m.group(3)
            if sec in ("*UND*", "*ABS*") or sec.startswith(".debug") or _in_section_label(name):
                continue
            if flags[6] == "d":  # a section symbol
                member.sections.add(sec)
                continue
            kind = "w" if flags[1] == "w" else ("g" if flags[0] in "gu!" else "l")
            old = member.symbols.get(name)
            if old is None or old[1] == "l":
                member.symbols[name] = (sec, kind)
        elif mode == "relocs" and not line.startswith("OFFSET"):
            parts = line.split(None, 2)
            if len(parts) == 3:
                value = re.split(r"[+-]0x[0-9a-f]+$", parts[2])[0]
                if not _in_section_label(value):
                    member.relocs[section].add(value)
    return out


def _in_section_label(name: str) -> bool:
    """A label that names a place in the referring section itself: RISC-V's `.L0` (the AUIPC a
    PCREL_LO12 pairs with) and branch targets, Arm's mapping symbols ($t, $d). Several share a
    name in one object, so they resolve to nothing; `.LC` labels (constants, strings) are unique
    per object and do name another section: RISC-V relocates against them where Arm uses the
    section's symbol, and `objdump -t` lists them only with --special-syms."""
    return name.startswith("$") or (name.startswith(".L") and not name.startswith(".LC"))


def read_objects(objdump: str, linked: list[tuple[str, str]], build: Path) -> dict[tuple[str, str], Member]:
    by_archive: dict[str, set[str]] = defaultdict(set)
    for a, n in linked:
        by_archive[a].add(n)
    out = {}
    for archive, names in by_archive.items():
        path = Path(archive) if Path(archive).is_absolute() else build / archive
        text = subprocess.run([objdump, "-rt", "--special-syms", str(path)], capture_output=True, text=True, errors="replace",
                              check=True).stdout
        for name, member in parse_objdump(text, archive, names).items():
            out[(archive, name)] = member
    return out


def classify(member: Member, tflm_kernels: set[str]) -> str:
    """kernel (a TFLM kernel source or a CMSIS-NN function), tflm (the rest of tflite-micro),
    libc (the toolchain's C, C++, math and compiler libraries), base (Zephyr and the app)."""
    a = member.archive
    if "cmsis-nn" in a:
        return "kernel"
    if "tflite-micro" in a:
        return "kernel" if member.stem in tflm_kernels else "tflm"
    if Path(a).is_absolute() and Path(a).name.startswith(("libc", "libm", "libgcc", "libstdc++", "libsupc++")):
        return "libc"
    return "base"


Node = tuple[str, str]  # (file as the map names it, input section)


@dataclass
class LinkGraph:
    members: list[Member]
    tflm_kernels: set[str]
    kept: dict[Node, int]  # every kept input section in flash and its bytes

    def __post_init__(self):
        self.kind = {m.key: classify(m, self.tflm_kernels) for m in self.members}
        self.by_key = {m.key: m for m in self.members}
        defs: dict[str, list[tuple[Member, str, str]]] = defaultdict(list)
        for m in self.members:
            for sym, (sec, kind) in m.symbols.items():
                if kind != "l":
                    defs[sym].append((m, sec, kind))
        self._defs = defs
        self._edges: dict[Node, list[Node]] = {}

    def resolve(self, m: Member, sym: str) -> Node | None:
        if sym in m.sections:
            return (m.key, sym)
        own = m.symbols.get(sym)
        if own is not None:
            return (m.key, own[0])
        cands = self._defs.get(sym, [])
        kept = [c for c in cands if (c[0].key, c[1]) in self.kept]
        pick = kept or [c for c in cands if c[2] == "g"] or cands
        return (pick[0][0].key, pick[0][1]) if pick else None

    def edges(self, node: Node) -> list[Node]:
        if node not in self._edges:
            m = self.by_key.get(node[0])
            out = []
            if m is not None:
                skip = self.kind[m.key] == "base"
                for sym in m.relocs.get(node[1], ()):
                    if skip and ("Register_" in sym or _PARSER.match(sym)):
                        continue  # the app's resolver calls (kernel, parser): what the ops bring is theirs
                    t = self.resolve(m, sym)
                    if t is not None and t != node:
                        out.append(t)
                exidx = (node[0], ".ARM.exidx" + node[1])  # its unwind entry, kept beside it
                if exidx in self.kept:
                    out.append(exidx)
            self._edges[node] = out
        return self._edges[node]

    def closure(self, roots: list[Node], stop: set[Node] = frozenset()) -> set[Node]:
        seen = {r for r in roots if r not in stop}
        todo = deque(seen)
        while todo:
            for t in self.edges(todo.popleft()):
                if t not in seen and t not in stop:
                    seen.add(t)
                    todo.append(t)
        return seen

    def base(self) -> set[Node]:
        """What Zephyr and the app reach without any op: every kept section of theirs, and all
        those reach, save through the op registrations (the app's resolver calls)."""
        roots = [n for n in self.kept if n[0] in self.kind and self.kind[n[0]] == "base"]
        return self.closure(roots)

    def function_node(self, name: str) -> Node | None:
        """The section of tflite::NAME(...), whatever its parameters (objdump prints symbols
        mangled: tflite::Register_CONV_2D() is _ZN6tflite16Register_CONV_2DEv)."""
        prefix = f"_ZN6tflite{len(name)}{name}E"
        for sym, defs in self._defs.items():
            if sym.startswith(prefix) and defs:
                return (defs[0][0].key, defs[0][1])
        return None


def load(build: Path, objdump: str, tflm_kernels: set[str]) -> LinkGraph:
    text = (build / "zephyr" / "zephyr.map").read_text(errors="replace")
    linked = linked_members(text)
    objects = read_objects(objdump, linked, build)
    members = [objects[(a, n)] for a, n in linked if (a, n) in objects]
    sizes = mapfile.parse(text)
    return LinkGraph(members, tflm_kernels, dict(sizes.sections)), sizes


def measure(build: Path, objdump: str, tflm_kernels: set[str], registrations: dict[str, str]) -> dict:
    """From an all-ops build: {"tflm": {flash, ram}, "kernels": {part: flash}, "ops": {OP: [parts]},
    "absent": [OP, ...]}. `registrations`: op -> its Register_ function's name, or (that, its
    flatbuffer parser's name): what the resolver's Add method for it references."""
    graph, sizes = load(build, objdump, tflm_kernels)
    base = graph.base()
    tflm_flash = sum(n for node, n in graph.kept.items()
                     if node in base and graph.kind.get(node[0]) in ("tflm", "kernel"))
    tflm_ram = sum(v for f, v in sizes.ram.items() if graph.kind.get(f) in ("tflm", "kernel"))
    reached: dict[Node, set[str]] = defaultdict(set)
    absent = []
    for op, functions in sorted(registrations.items()):
        register, *parser = (functions,) if isinstance(functions, str) else functions
        root = graph.function_node(register)
        if root is None:
            absent.append(op)
            continue
        roots = [root] + [n for n in map(graph.function_node, parser) if n is not None]
        for node in graph.closure(roots, stop=base):
            if node in graph.kept:
                reached[node].add(op)
    # Sections reached by the same ops form one part, named by its largest member.
    groups: dict[frozenset, list[Node]] = defaultdict(list)
    for node, ops in reached.items():
        groups[frozenset(ops)].append(node)
    kernels: dict[str, int] = {}
    # Every op found has an entry, if empty: all it needs is already in the app (a plan of it
    # adds nothing, and is complete).
    ops_parts: dict[str, list[str]] = {op: [] for op in registrations if op not in absent}
    for i, (ops, nodes) in enumerate(sorted(groups.items(), key=lambda g: (-len(g[0]), sorted(g[0])))):
        by_member: dict[str, int] = defaultdict(int)
        for node in nodes:
            by_member[node[0]] += graph.kept[node]
        top = max(by_member, key=by_member.get)
        m = graph.by_key.get(top)
        label = m.stem if m else top
        name = f"{label}" if len(ops) == 1 else f"{label}+{len(by_member) - 1} (shared by {len(ops)} ops)"
        name = f"{name} #{i}"
        kernels[name] = sum(graph.kept[n] for n in nodes)
        for op in ops:
            ops_parts[op].append(name)
    return {"tflm": {"flash": tflm_flash, "ram": tflm_ram}, "kernels": kernels,
            "ops": {op: sorted(p) for op, p in sorted(ops_parts.items())}, "absent": absent}
