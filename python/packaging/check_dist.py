"""Checks what `make wheels` wrote before it is handed to anyone.

Every wheel must:
- be under 2.5 MB (the RabbitMQ bridge is most of it);
- hold the pure-Python package and exactly one extension module, built for
  the interpreter its file name says;
- carry no symbol table or debug info in that module (it was stripped);
- be what auditwheel calls manylinux_2_17 (glibc 2.17, manylinux2014): it
  links against no library but glibc's, at symbol versions 2.17 or older.

The sdist must hold everything needed to build the wheel again (the
workspace manifest and lock file, the core crate and the binding crate) and
no compiled module.

Usage: python check_dist.py DIR  (prints one line per artifact)
"""

from __future__ import annotations

import re
import struct
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

MAX_WHEEL_BYTES = 2_500_000
PLATFORM = "manylinux_2_17_x86_64"
PACKAGE_FILES = {"ringq/__init__.py", "ringq/_ringq.pyi", "ringq/py.typed"}
SDIST_FILES = {
    "pyproject.toml",
    "Cargo.toml",
    "Cargo.lock",
    "core/Cargo.toml",
    "core/src/lib.rs",
    "python/Cargo.toml",
    "python/src/lib.rs",
    "ringq/__init__.py",
}


def elf_section_names(image: bytes) -> list[str]:
    """The section names of a 64-bit little-endian ELF file."""
    if image[:4] != b"\x7fELF" or image[4] != 2 or image[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF file")
    (shoff,) = struct.unpack_from("<Q", image, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", image, 0x3A)
    headers = [struct.unpack_from("<IIQQQQ", image, shoff + i * shentsize) for i in range(shnum)]
    strtab_offset, strtab_size = headers[shstrndx][4], headers[shstrndx][5]
    strtab = image[strtab_offset : strtab_offset + strtab_size]
    return [strtab[h[0] : strtab.index(b"\0", h[0])].decode() for h in headers]


def check_wheel(wheel: Path) -> str:
    size = wheel.stat().st_size
    if size >= MAX_WHEEL_BYTES:
        raise SystemExit(f"{wheel.name}: {size} bytes, over the 1 MB limit")
    match = re.fullmatch(r"ringq-[^-]+-(cp3\d+)-(cp3\d+)-(.+)\.whl", wheel.name)
    if not match or match[1] != match[2]:
        raise SystemExit(f"{wheel.name}: not a per-interpreter CPython wheel")
    tag = match[1]
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        modules = sorted(n for n in names if n.endswith(".so"))
        expected = f"ringq/_ringq.cpython-{tag[2:]}-x86_64-linux-gnu.so"
        if modules != [expected]:
            raise SystemExit(f"{wheel.name}: extension modules {modules}, expected [{expected}]")
        missing = PACKAGE_FILES - names
        if missing:
            raise SystemExit(f"{wheel.name}: missing {sorted(missing)}")
        sections = elf_section_names(zf.read(expected))
    unstripped = [s for s in sections if s == ".symtab" or s.startswith(".debug")]
    if unstripped:
        raise SystemExit(f"{wheel.name}: extension not stripped, has {unstripped}")
    report = subprocess.run(
        [sys.executable, "-m", "auditwheel", "show", str(wheel)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if f'consistent with the following platform tag: "{PLATFORM}"' not in " ".join(report.split()):
        raise SystemExit(f"{wheel.name}: auditwheel does not find it {PLATFORM}:\n{report}")
    version = f"{tag[2]}.{tag[3:]}"
    return f"{wheel.name}  {size / 1024:.0f} KiB  CPython {version}, x86_64 Linux with glibc >= 2.17"


def check_sdist(sdist: Path) -> str:
    with tarfile.open(sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    missing = SDIST_FILES - names
    if missing:
        raise SystemExit(f"{sdist.name}: missing {sorted(missing)}")
    compiled = sorted(n for n in names if n.endswith((".so", ".pyc")))
    if compiled:
        raise SystemExit(f"{sdist.name}: holds compiled files {compiled}")
    size = sdist.stat().st_size
    return f"{sdist.name}  {size / 1024:.0f} KiB  source: any platform with Rust and CPython >= 3.9"


def main() -> None:
    out = Path(sys.argv[1])
    # Oldest interpreter first: cp39 before cp310.
    wheels = sorted(out.glob("ringq-*.whl"), key=lambda w: int(w.name.split("-")[2][2:]))
    sdists = sorted(out.glob("ringq-[0-9]*.tar.gz"))
    if not wheels or len(sdists) != 1:
        raise SystemExit(f"{out}: expected wheels and one sdist, found {[p.name for p in out.iterdir()]}")
    for line in [check_wheel(w) for w in wheels] + [check_sdist(sdists[0])]:
        print(f"  {line}")


if __name__ == "__main__":
    main()
