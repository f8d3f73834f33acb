"""Start and stop a local anvil node (Foundry, installed from npm into node_modules/)."""

from __future__ import annotations

import platform
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NPM_SCOPE = PROJECT_ROOT / "node_modules" / "@foundry-rs"

# anvil's default mnemonic ("test test ... junk"): well known, devnet only.
DEVNET_CHAIN_ID = 31337


class AnvilError(RuntimeError):
    """anvil is missing, its port is taken, or it did not start in time."""


def _npm_native_binary() -> Path:
    """The platform binary the npm package ships (node_modules/.bin/anvil is a Node wrapper that
    does not pass signals on, so stopping it would orphan the node and skip the state dump)."""
    machine = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower(), platform.machine().lower()
    )
    system = {"windows": "win32"}.get(platform.system().lower(), platform.system().lower())
    return NPM_SCOPE / f"anvil-{system}-{machine}" / "bin" / "anvil"


def anvil_binary() -> Path:
    """Return the anvil executable, or raise AnvilError saying how to install it."""
    native = _npm_native_binary()
    if native.exists():
        return native
    found = shutil.which("anvil")
    if found:
        return Path(found)
    if shutil.which("node") is None:
        raise AnvilError("Node.js is not installed: install it (apt-get install nodejs npm), then run 'make setup'.")
    raise AnvilError("anvil is not installed: run 'make setup' (it runs npm install) in the project directory.")


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on host that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something already listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


@dataclass
class AnvilNode:
    """A running anvil process and its JSON-RPC URL."""

    port: int
    process: subprocess.Popen
    host: str = "127.0.0.1"
    extra_args: list[str] = field(default_factory=list)

    @property
    def rpc_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the node gracefully (SIGINT, so --state is dumped), killing it if it hangs."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> AnvilNode:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _rpc_ready(url: str) -> bool:
    try:
        probe = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
        response = requests.post(url, json=probe, timeout=1)
        return response.ok
    except requests.RequestException:
        return False


def start_anvil(
    port: int | None = None,
    *,
    host: str = "127.0.0.1",
    state_file: Path | None = None,
    extra_args: list[str] | None = None,
    startup_timeout: float = 30.0,
) -> AnvilNode:
    """Start anvil on host:port (a free port when None) and wait until it answers JSON-RPC.

    With state_file, the chain is loaded from it when it exists and written back on a graceful stop.
    """
    binary = anvil_binary()
    if port is None:
        port = free_port(host)
    elif port_in_use(port, host):
        raise AnvilError(f"Port {port} is already in use: stop what listens there or set another devnet port.")
    args = [str(binary), "--host", host, "--port", str(port), "--silent", "--chain-id", str(DEVNET_CHAIN_ID)]
    if state_file is not None:
        state_file.parent.mkdir(parents=True, exist_ok=True)
        args += ["--state", str(state_file)]
    args += extra_args or []
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    node = AnvilNode(port=port, process=process, host=host, extra_args=list(extra_args or []))
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode(errors="replace").strip() if process.stderr else ""
            raise AnvilError(f"anvil exited at start-up: {error or 'no message'}")
        if _rpc_ready(node.rpc_url):
            return node
        time.sleep(0.05)
    node.stop()
    raise AnvilError(f"anvil did not answer on {node.rpc_url} within {startup_timeout:.0f} s.")
