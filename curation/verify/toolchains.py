"""Find the compilers and runtimes the code verifier needs, and say exactly what is missing.

Each `find_<language>` returns a `Toolchain`: absolute tool paths, the environment its commands
need, and a version string that goes into every verdict's cache key (a new compiler or library
re-verifies everything). A missing piece raises `ToolchainMissingError` naming the Debian
package that provides it; `scripts/install-toolchains` installs them all.

Everything the HumanEvalPack tests import comes from Debian packages, so verification works
offline: testify for Go (GOPATH mode), the rand/regex/md5 crates for Rust (a crates-io source
replacement by /usr/share/cargo/registry), boost and OpenSSL headers for C++. The one npm
package, js-md5 (JavaScript/162), is installed by scripts/install-toolchains into
/usr/local/lib/rbkit/node_modules.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rbkit.core.files import atomic_write
from rbkit.core.tail import tail
from rbkit.curation.errors import ToolchainMissingError
from rbkit.curation.verify.sandbox import SAFE_PATH

INSTALL_HINT = "run scripts/install-toolchains (as root), or build with --skip-verify"
NODE_PATH_DEFAULT = "/usr/local/lib/rbkit/node_modules"
GOPATH_DEFAULT = "/usr/share/gocode"
CARGO_REGISTRY_DEFAULT = "/usr/share/cargo/registry"
RUST_CRATES: dict[str, str] = {"rand": "librust-rand-dev", "regex": "librust-regex-dev", "md5": "librust-md5-dev"}
# Debian packages each crate's feature set needs (regex without its optional perf crates).
RUST_DEPENDENCIES = """\
rand = "0.8"
regex = { version = "1", default-features = false, features = ["std", "unicode"] }
md5 = "0.7"
"""


@dataclass(frozen=True)
class Toolchain:
    """Paths, environment and identity of one language's toolchain."""

    language: str
    tools: dict[str, str]
    version: str
    env: dict[str, str] = field(default_factory=dict)  # for compile stages
    run_env: dict[str, str] = field(default_factory=dict)  # for running candidate code
    cache_dir: Path | None = None  # toolchain artifacts (Go build cache, Rust dependencies)


def missing(language: str, what: str, package: str) -> ToolchainMissingError:
    return ToolchainMissingError(
        f"code verification for {language} needs {what}: install the Debian package {package}; {INSTALL_HINT}"
    )


def _which(name: str) -> str | None:
    """Absolute path on PATH, symlinks kept (rustup proxies dispatch on the name they run as)."""
    found = shutil.which(name) or shutil.which(name, path=SAFE_PATH)
    return str(Path(found).absolute()) if found else None


def _output(argv: Sequence[str], env: dict[str, str] | None = None) -> str:
    """stdout+stderr of a quick version query (some tools print versions on stderr)."""
    done = subprocess.run(list(argv), capture_output=True, text=True, timeout=60, env=env)
    if done.returncode != 0:
        raise OSError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip()[:300]}")
    return (done.stdout + done.stderr).strip()


def _sha256_files(paths: Sequence[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _tool_path(env: dict[str, str], *tools: str) -> dict[str, str]:
    dirs = []
    for tool in tools:
        d = str(Path(tool).parent)
        if d not in dirs:
            dirs.append(d)
    return {**env, "PATH": ":".join([*dirs, SAFE_PATH])}


# --- one function per language ---------------------------------------------------------------


def find_python(cache_dir: Path) -> Toolchain:
    """A python3 whose standard library the sandbox user can read (the system one first)."""
    choices = [os.environ.get("RBKIT_PYTHON3"), "/usr/bin/python3", _which("python3")]
    for choice in choices:
        if not choice or not Path(choice).is_file():
            continue
        try:
            version = _output([choice, "-c", "import sys; print(sys.version.replace(chr(10), ' '))"])
        except OSError:
            continue
        return Toolchain("python", {"python": choice}, f"python {version}", run_env={"PYTHONHASHSEED": "0"})
    raise missing("python", "python3", "python3")


def find_js(cache_dir: Path) -> Toolchain:
    node = _which("node")
    if node is None:
        raise missing("js", "node", "nodejs")
    node_path = os.environ.get("RBKIT_NODE_PATH", NODE_PATH_DEFAULT)
    manifest = Path(node_path) / "js-md5" / "package.json"
    if not manifest.is_file():
        raise ToolchainMissingError(
            f"code verification for js needs the npm package js-md5 (HumanEvalPack JavaScript/162 "
            f"requires it) in {node_path} (or $RBKIT_NODE_PATH); {INSTALL_HINT}"
        )
    md5_version = json.loads(manifest.read_text(encoding="utf-8")).get("version", "?")
    version = f"node {_output([node, '--version'])}; js-md5 {md5_version}"
    return Toolchain("js", {"node": node}, version, run_env={"NODE_PATH": node_path})


JAVA_FLAGS = ("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")  # small, quick-starting JVMs


def find_java(cache_dir: Path) -> Toolchain:
    javac, java = _which("javac"), _which("java")
    if javac is None or java is None:
        raise missing("java", "javac and java", "default-jdk-headless")
    version = f"{_output([javac, '-version'])}; {_output([java, '-version']).splitlines()[0]}"
    jsa = cache_dir / "toolchains" / f"javac-{hashlib.sha256(version.encode()).hexdigest()[:16]}.jsa"
    return Toolchain("java", {"javac": javac, "java": java}, version, cache_dir=jsa)


def javac_flags(tc: Toolchain) -> list[str]:
    """JVM flags for javac, with a class-data-sharing archive of javac's own classes.

    javac spends most of a small compile loading its classes; an archive made once per JDK
    (in the cache, behind a file lock) cuts about a third of its CPU time. Without one (it
    could not be made) javac runs as usual.
    """
    assert tc.cache_dir is not None
    jsa = tc.cache_dir
    flags = [f"-J{f}" for f in JAVA_FLAGS]
    jsa.parent.mkdir(parents=True, exist_ok=True)
    with open(jsa.parent / f".{jsa.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not jsa.is_file():
            _make_javac_archive(tc, jsa, flags)
    return [*flags, f"-J-XX:SharedArchiveFile={jsa}", "-J-Xlog:cds=off", "-J-Xlog:cds+dynamic=off"] if jsa.is_file() else flags


def _make_javac_archive(tc: Toolchain, jsa: Path, flags: list[str]) -> None:
    work = Path(tempfile.mkdtemp(prefix=".javac-cds-", dir=jsa.parent))
    try:
        (work / "Main.java").write_text(
            "import java.util.*;\nclass Solution { List<Integer> f() { return new ArrayList<>(); } }\n"
            "public class Main { public static void main(String[] a) { new Solution().f(); } }\n",
            encoding="utf-8",
        )
        tmp = work / "javac.jsa"
        subprocess.run(
            [tc.tools["javac"], *flags, f"-J-XX:ArchiveClassesAtExit={tmp}", "-d", str(work), str(work / "Main.java")],
            cwd=work,
            capture_output=True,
            timeout=300,
            env={"PATH": SAFE_PATH, "HOME": str(work)},
        )
        if tmp.is_file():
            atomic_write(jsa, tmp.read_bytes())
    finally:
        shutil.rmtree(work, ignore_errors=True)


def find_cpp(cache_dir: Path) -> Toolchain:
    gxx = _which("g++")
    if gxx is None:
        raise missing("cpp", "g++", "g++")
    boost = Path("/usr/include/boost/version.hpp")
    if not boost.is_file() or not Path("/usr/include/boost/any.hpp").is_file():
        raise missing("cpp", "the boost headers (boost/any.hpp)", "libboost-dev")
    ssl = Path("/usr/include/openssl/opensslv.h")
    if not ssl.is_file() or not Path("/usr/include/openssl/md5.h").is_file():
        raise missing("cpp", "the OpenSSL headers (openssl/md5.h, CPP/162)", "libssl-dev")
    boost_v = re.search(r'#define BOOST_LIB_VERSION "([^"]+)"', boost.read_text(errors="replace"))
    ssl_v = re.search(r'#\s*define OPENSSL_FULL_VERSION_STR "([^"]+)"', ssl.read_text(errors="replace"))
    version = (
        f"{_output([gxx, '--version']).splitlines()[0]}; boost {boost_v.group(1) if boost_v else '?'}; "
        f"openssl {ssl_v.group(1) if ssl_v else '?'}"
    )
    return Toolchain("cpp", {"g++": gxx}, version, env=_tool_path({}, gxx))


def find_go(cache_dir: Path) -> Toolchain:
    go, goimports = _which("go"), _which("goimports")
    if go is None:
        raise missing("go", "go", "golang-go")
    if goimports is None:
        raise missing("go", "goimports (unused imports are removed before compiling)", "golang-golang-x-tools")
    gopath = os.environ.get("RBKIT_GOPATH", GOPATH_DEFAULT)
    testify = Path(gopath) / "src" / "github.com" / "stretchr" / "testify" / "assert"
    if not testify.is_dir():
        raise missing("go", f"testify in {gopath} (GOPATH mode, offline)", "golang-github-stretchr-testify-dev")
    goroot = _output([go, "env", "GOROOT"])
    gocache = cache_dir / "toolchains" / "go-build"
    gocache.mkdir(parents=True, exist_ok=True)
    env = _tool_path(
        {
            "GOROOT": goroot,
            "GOPATH": gopath,
            "GO111MODULE": "off",
            "GOCACHE": str(gocache),
            "GOFLAGS": "",
            "GOPROXY": "off",
            "GOTOOLCHAIN": "local",
            "GOTELEMETRY": "off",
            "CGO_ENABLED": "0",
        },
        go,
    )
    version = (
        f"{_output([go, 'version'])}; goimports {_sha256_files([Path(goimports)])}; "
        f"testify {_sha256_files(list(testify.glob('*.go')))}"
    )
    return Toolchain("go", {"go": go, "goimports": goimports}, version, env=env, cache_dir=gocache)


def find_rust(cache_dir: Path) -> Toolchain:
    rustc_entry = _which("rustc")
    if rustc_entry is None:
        raise missing("rust", "rustc", "rustc")
    sysroot = Path(_output([rustc_entry, "--print", "sysroot"]))
    rustc = sysroot / "bin" / "rustc"  # the real compiler, not a rustup proxy (it needs $HOME)
    rustc_path = str(rustc) if rustc.is_file() else rustc_entry
    cargo = sysroot / "bin" / "cargo"
    cargo_path = str(cargo) if cargo.is_file() else _which("cargo")
    if cargo_path is None:
        raise missing("rust", "cargo (builds the test dependencies once)", "cargo")
    registry = Path(os.environ.get("RBKIT_CARGO_REGISTRY", CARGO_REGISTRY_DEFAULT))
    crates = sorted(p.name for p in registry.iterdir()) if registry.is_dir() else []
    for crate, package in RUST_CRATES.items():
        if not any(re.fullmatch(rf"{crate}-\d.*", name) for name in crates):
            raise missing("rust", f"the {crate} crate in {registry}", package)
    version = f"{_output([rustc_path, '-vV'])}; registry {','.join(crates)}"
    deps = cache_dir / "toolchains" / f"rust-deps-{hashlib.sha256(version.encode()).hexdigest()[:16]}"
    tools = {"rustc": rustc_path, "cargo": cargo_path, "registry": str(registry)}
    return Toolchain("rust", tools, version, env=_tool_path({}, rustc_path), cache_dir=deps)


FINDERS = {
    "python": find_python,
    "js": find_js,
    "java": find_java,
    "cpp": find_cpp,
    "go": find_go,
    "rust": find_rust,
}


def find(language: str, cache_dir: Path) -> Toolchain:
    if language not in FINDERS:
        raise ValueError(f"unknown language {language!r}; expected one of {sorted(FINDERS)}")
    try:
        return FINDERS[language](cache_dir)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolchainMissingError(f"code verification for {language}: toolchain check failed: {exc}") from exc


# --- Rust: the crates the tests `use`, built once per toolchain --------------------------------


def rust_extern_flags(tc: Toolchain) -> list[str]:
    """rustc flags linking rand, regex and md5, building them with cargo (offline) the first time.

    The build lives in the cache, keyed by the toolchain version, behind a file lock so that
    parallel builds build it once. Every candidate then compiles with plain rustc against it
    (about 0.1 s, and candidates build in parallel without cargo's target-dir lock).
    """
    assert tc.cache_dir is not None
    root = tc.cache_dir
    manifest = root / "externs.json"
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f".{root.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not manifest.is_file():
            _build_rust_deps(tc, root)
    externs = json.loads(manifest.read_text(encoding="utf-8"))
    flags = ["-L", f"dependency={root / 'target' / 'debug' / 'deps'}"]
    for crate in RUST_CRATES:
        flags += ["--extern", f"{crate}={root / externs[crate]}"]
    return flags


def _build_rust_deps(tc: Toolchain, root: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix=f".{root.name}.tmp-", dir=root.parent))
    try:
        (work / "src").mkdir()
        (work / "src" / "lib.rs").write_text("", encoding="utf-8")
        (work / "Cargo.toml").write_text(
            '[package]\nname = "rbkit_verify_deps"\nversion = "0.0.0"\nedition = "2021"\n\n'
            f"[dependencies]\n{RUST_DEPENDENCIES}",
            encoding="utf-8",
        )
        (work / ".cargo").mkdir()
        (work / ".cargo" / "config.toml").write_text(
            '[source.crates-io]\nreplace-with = "debian"\n\n'
            f'[source.debian]\ndirectory = "{tc.tools["registry"]}"\n\n[net]\noffline = true\n',
            encoding="utf-8",
        )
        env = {
            "PATH": tc.env.get("PATH", SAFE_PATH),
            "HOME": str(work),
            "CARGO_HOME": str(work / ".cargo-home"),
            "RUSTC": tc.tools["rustc"],
            "CARGO_TARGET_DIR": str(work / "target"),
        }
        done = subprocess.run(
            [tc.tools["cargo"], "build", "--offline", "--message-format=json"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if done.returncode != 0:
            raise ToolchainMissingError(
                "code verification for rust: cargo could not build rand, regex and md5 from "
                f"{tc.tools['registry']} (Debian packages {', '.join(RUST_CRATES.values())}):\n"
                + tail(done.stderr.strip())
            )
        externs: dict[str, str] = {}
        for line in done.stdout.splitlines():
            msg = json.loads(line)
            if msg.get("reason") != "compiler-artifact" or msg["target"]["name"] not in RUST_CRATES:
                continue
            rlib = next(f for f in msg["filenames"] if f.endswith(".rlib"))
            externs[msg["target"]["name"]] = str(Path(rlib).relative_to(work))
        if set(externs) != set(RUST_CRATES):
            raise ToolchainMissingError(f"code verification for rust: cargo built {sorted(externs)}, expected {sorted(RUST_CRATES)}")
        (work / "externs.json").write_text(json.dumps(externs, sort_keys=True), encoding="utf-8")
        if root.exists():
            shutil.rmtree(root)
        os.replace(work, root)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
