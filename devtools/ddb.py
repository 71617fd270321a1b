"""DynamoDB Local: install AWS's emulator jar (shipped by the npm package
`amplify-dynamodb-simulator`), start it on Java 17, wait until it answers.

Used by `make dev` (data kept under $MSO_DATA_DIR/db) and by the integration tests (in memory).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
import urllib.request
from pathlib import Path

PACKAGE = "amplify-dynamodb-simulator@2.9.30"


class DynamoDBLocalError(RuntimeError):
    pass


def java_available() -> bool:
    java = shutil.which("java")
    if not java:
        return False
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0


def ensure_jar(install_dir: Path) -> Path:
    """Return the emulator folder, unpacking the npm package into `install_dir` on first use."""
    emulator = install_dir / "emulator"
    if (emulator / "DynamoDBLocal.jar").is_file():
        return emulator
    if not shutil.which("npm"):
        raise DynamoDBLocalError("npm is needed once to fetch DynamoDB Local (package amplify-dynamodb-simulator)")
    install_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(["npm", "pack", PACKAGE, "--silent", "--pack-destination", tmp],
                             capture_output=True, text=True, timeout=600)
        if out.returncode != 0:
            raise DynamoDBLocalError(f"npm pack {PACKAGE} failed: {out.stderr.strip()[-500:]}")
        tgz = next(Path(tmp).glob("*.tgz"))
        with tarfile.open(tgz) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith("package/emulator/")]
            tar.extractall(tmp, members=members, filter="data")
        staged = Path(tmp) / "package" / "emulator"
        if not (staged / "DynamoDBLocal.jar").is_file():
            raise DynamoDBLocalError(f"{PACKAGE} did not contain emulator/DynamoDBLocal.jar")
        shutil.rmtree(emulator, ignore_errors=True)
        shutil.move(str(staged), emulator)
    return emulator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex((host, port)) == 0


def is_dynamodb(endpoint: str) -> bool:
    """True if something DynamoDB-like answers at `endpoint` (unsigned request -> JSON error)."""
    req = urllib.request.Request(endpoint, data=b"{}", method="POST", headers={
        "X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": "application/x-amz-json-1.0"})
    try:
        with urllib.request.urlopen(req, timeout=2) as r:
            return r.status < 500
    except urllib.error.HTTPError as e:  # 400 MissingAuthenticationToken: it is DynamoDB
        return e.code < 500
    except OSError:
        return False


def start(emulator: Path, port: int, *, db_path: Path | None, log_path: Path | None = None,
          timeout_s: float = 60, watchdog: bool = True) -> subprocess.Popen:
    """Start DynamoDB Local; `db_path=None` keeps data in memory. Waits until it answers.

    With `watchdog`, a small process (devtools/watchdog.py) stops it when this process dies."""
    args = ["java", f"-Djava.library.path={emulator / 'DynamoDBLocal_lib'}", "-jar",
            str(emulator / "DynamoDBLocal.jar"), "-port", str(port)]
    if db_path is None:
        args += ["-inMemory", "-sharedDb"]
    else:
        db_path.mkdir(parents=True, exist_ok=True)
        args += ["-sharedDb", "-dbPath", str(db_path)]
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - owned by the child
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=str(emulator),
                            start_new_session=True)
    if watchdog:  # stops it if this process dies without cleaning up (SIGKILL)
        import sys

        subprocess.Popen([sys.executable, "-m", "devtools.watchdog", str(os.getpid()), str(proc.pid)],
                         cwd=str(Path(__file__).resolve().parents[1]), stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DynamoDBLocalError(f"DynamoDB Local exited with code {proc.returncode}"
                                     + (f"; see {log_path}" if log_path else ""))
        if port_open(port) and is_dynamodb(endpoint):
            return proc
        time.sleep(0.2)
    proc.kill()
    raise DynamoDBLocalError(f"DynamoDB Local did not answer on port {port} within {timeout_s:.0f}s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def default_install_dir() -> Path:
    """Where the jar lives: `MSO_DDB_HOME`, else `.data/dynamodb-local` in the repository (shared by
    `make dev`, `make token` and the tests, whatever data folder they use)."""
    home = os.environ.get("MSO_DDB_HOME")
    return Path(home).resolve() if home else Path(__file__).resolve().parents[1] / ".data" / "dynamodb-local"
