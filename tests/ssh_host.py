"""An engine reached over SSH, on loopback: a private sshd on a free port with a throwaway
host key, one authorized client key, and the session's DOCKER_HOST set to the rig's engine
(docker-py's ssh:// runs `docker system dial-stdio` on the far side, which dials it). The
client's key and known_hosts live in a home of their own (`home`), as ~/.ssh would.
Started and stopped by pid."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.rig import Engine, Process, free_port, wait_for

SSHD = "/usr/sbin/sshd"


def available() -> bool:
    return Path(SSHD).exists() and shutil.which("ssh-keygen") is not None


@dataclass
class SSHHost:
    root: Path
    engine: Engine
    port: int = field(default_factory=free_port)
    process: Process | None = None

    @property
    def home(self) -> Path:
        """The client's home: .ssh/id_ed25519 and .ssh/known_hosts for this host."""
        return self.root / "home"

    @property
    def url(self) -> str:
        return f"ssh://root@127.0.0.1:{self.port}"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        dot_ssh = self.home / ".ssh"
        dot_ssh.mkdir(parents=True, exist_ok=True)
        for name in ("host_key", "client_key"):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.root / name)],
                check=True,
            )
        shutil.copy(self.root / "client_key.pub", self.root / "authorized_keys")
        shutil.copy(self.root / "client_key", dot_ssh / "id_ed25519")
        kind, key = (self.root / "host_key.pub").read_text().split()[:2]
        (dot_ssh / "known_hosts").write_text(f"[127.0.0.1]:{self.port} {kind} {key}\n")
        config = self.root / "sshd_config"
        config.write_text(
            f"Port {self.port}\n"
            "ListenAddress 127.0.0.1\n"
            f"HostKey {self.root / 'host_key'}\n"
            f"AuthorizedKeysFile {self.root / 'authorized_keys'}\n"
            f"PidFile {self.root / 'sshd.pid'}\n"
            "StrictModes no\nUsePAM no\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
            "AllowUsers root\nX11Forwarding no\nAllowTcpForwarding no\n"
            # The far side's docker CLI dials the rig's engine, never the system socket.
            f"SetEnv DOCKER_HOST={self.engine.url} DOCKER_CONFIG={self.root / 'docker-config'}\n"
        )
        # sshd refuses to start without its privilege separation directory.
        os.makedirs("/run/sshd", exist_ok=True)
        log = self.root / "sshd.log"
        popen = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)],
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.process = Process("sshd", popen, log)

        def listening() -> bool:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True

        wait_for(listening, 15, f"sshd on {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None
