"""`make run`: the local chain with its staged thefts, migrations, demo data, the web app and the
scheduler, started together and stopped together with Ctrl-C.

    python -m casework.devrun [--port 5000]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import click
from web3 import Web3

from casework import PROJECT_ROOT, create_app
from casework.cli import check_database
from casework.extensions import db
from casework.services import demo
from evidence.devnet import staging
from evidence.devnet.anvil import AnvilError, AnvilNode, port_in_use, start_anvil


@dataclass(frozen=True)
class DevPaths:
    """Where `make run` keeps the chain, its staged scenario and the demo logins."""

    instance: Path

    @property
    def state_file(self) -> Path:
        return self.instance / "devnet" / "anvil-state.json"

    @property
    def scenario_file(self) -> Path:
        return self.instance / "devnet" / "scenario.json"

    @property
    def credentials_file(self) -> Path:
        return self.instance / "demo-credentials.json"


class RunError(Exception):
    """Something the person running `make run` must fix; printed as one line."""


def _devnet_port(rpc_url: str) -> int:
    parts = urlsplit(rpc_url)
    if parts.hostname not in {"127.0.0.1", "localhost"} or parts.port is None:
        raise RunError(f"CASEWORK_DEVNET_RPC_URL must be a loopback URL with a port, not {rpc_url}.")
    return parts.port


def _staged_scenario(node: AnvilNode, paths: DevPaths) -> staging.StagedScenario:
    """Reuse the thefts kept in the chain's saved state, or stage them on a fresh chain."""
    w3 = Web3(Web3.HTTPProvider(node.rpc_url, request_kwargs={"timeout": 30}))
    if paths.scenario_file.exists():
        try:
            scenario = staging.StagedScenario.from_json(paths.scenario_file.read_text())
            if staging.scenario_is_on_chain(w3, scenario):
                return scenario
        except ValueError:
            pass
    click.echo("Staging the demo thefts on the local chain ...")
    scenario = staging.stage_thefts(w3)
    paths.scenario_file.write_text(scenario.to_json())
    return scenario


def _prepare(node: AnvilNode, paths: DevPaths, public_url: str) -> list[demo.DemoLogin]:
    from flask_migrate import upgrade

    app = create_app({"DEVNET_RPC_URL": node.rpc_url, "PUBLIC_URL": public_url})
    with app.app_context():
        check_database()
        upgrade()
        scenario = _staged_scenario(node, paths)
        logins = demo.ensure_demo_staff(paths.credentials_file)
        demo.import_devnet_labels(scenario)
        demo.load_directory()
        new_cases = demo.file_demo_cases(scenario)
        if new_cases:
            click.echo(f"Filed demo cases: {', '.join(new_cases)}")
        db.engine.dispose()
    return logins


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    # A session of their own, so Ctrl-C reaches only this process, which stops them in order.
    return subprocess.Popen(args, cwd=PROJECT_ROOT, env=env, start_new_session=True)


def _stop(process: subprocess.Popen, timeout: float = 10) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()


def run(web_port: int, paths: DevPaths) -> int:
    """Start everything and block until Ctrl-C or until a process dies."""
    if port_in_use(web_port):
        raise RunError(f"Port {web_port} is already in use: stop what listens there or run 'make run PORT=5001'.")
    # `kill` or a closed terminal stops everything as cleanly as Ctrl-C (and anvil saves its state).
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    env = dict(os.environ)
    # Links in e-mails (the demo cases' too) lead to this run's port, unless the operator named the public address.
    env.setdefault("CASEWORK_PUBLIC_URL", f"http://127.0.0.1:{web_port}")
    devnet_url = env.get("CASEWORK_DEVNET_RPC_URL", "http://127.0.0.1:8545")
    devnet_port = _devnet_port(devnet_url)
    # A fresh chain starts three hours back, so the staged thefts lie in the recent past rather
    # than ahead of the wall clock.
    fresh = [] if paths.state_file.exists() else ["--timestamp", str(int(time.time()) - 3 * 3600)]
    try:
        node = start_anvil(devnet_port, state_file=paths.state_file, extra_args=fresh)
    except AnvilError as exc:
        raise RunError(str(exc)) from None
    children: list[subprocess.Popen] = []
    try:
        logins = _prepare(node, paths, env["CASEWORK_PUBLIC_URL"])
        env["CASEWORK_DEVNET_RPC_URL"] = node.rpc_url
        children.append(_spawn([sys.executable, "-m", "scheduler"], env))
        children.append(
            _spawn(
                [sys.executable, "-m", "flask", "--app", "casework", "run", "--host", "127.0.0.1",
                 "--port", str(web_port), "--no-reload"],
                env,
            )
        )
        _print_banner(web_port, node, logins, paths)
        while all(child.poll() is None for child in children) and node.process.poll() is None:
            time.sleep(0.5)
        click.echo("A process stopped unexpectedly; stopping the others.", err=True)
        return 1
    except KeyboardInterrupt:
        click.echo("\nStopping ...")
        return 0
    finally:
        for child in reversed(children):
            _stop(child)
        node.stop()


def _print_banner(web_port: int, node: AnvilNode, logins: list[demo.DemoLogin], paths: DevPaths) -> None:
    lines = [
        "",
        f"Casework is running on http://127.0.0.1:{web_port}",
        f"Local chain (anvil, chain id 31337): {node.rpc_url}",
        f"Demo staff sign-in (http://127.0.0.1:{web_port}/staff/login):",
        *(f"  {login.role.value:<10} {login.email:<26} {login.password}" for login in logins),
        f"(kept in {paths.credentials_file}; Ctrl-C stops the app, the scheduler and the chain)",
        "",
    ]
    click.echo("\n".join(lines))


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=5000, help="web port (default 5000)")
    parser.add_argument("--instance", type=Path, default=PROJECT_ROOT / "instance",
                        help="where the chain state and demo logins are kept (default: instance/)")
    args = parser.parse_args(argv)
    try:
        return run(args.port, DevPaths(args.instance))
    except (RunError, click.ClickException) as exc:
        message = exc.format_message() if isinstance(exc, click.ClickException) else str(exc)
        click.echo(f"make run: {message}", err=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())

