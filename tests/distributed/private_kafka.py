"""Kafka of a test's own: single-node KRaft clusters and MirrorMaker 2 in dedicated mode,
run from the jars `infra/fetch_jars.sh kafka` fetches (as `infra/stack.sh` runs its
broker), on free ports and in the test's own directory, so they never meet the shared
stack (9092/9093, 19092-19094). Every process is stopped when its context ends, also
when the test fails."""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from podium.tools.bench import free_port

ROOT = Path(__file__).resolve().parents[2]
LIBS = ROOT / ".infra" / "libs" / "kafka"
LOG4J2 = ROOT / "infra" / "conf" / "kafka" / "log4j2.properties"  # console only: no __ROOT__ to render
JAVA = Path(os.environ.get("JAVA_HOME", "/usr/lib/jvm/java-17-openjdk-amd64")) / "bin" / "java"
# Small heaps and the client compiler only: three JVMs start at once on a 2-core machine,
# and a test's few hundred records need neither.
JVM_OPTS = ["-Xms128m", "-Xmx320m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true"]


def java_missing() -> str | None:
    """Why these engines cannot run here, or None."""
    return None if JAVA.exists() else f"no java at {JAVA} (set JAVA_HOME, or `make system-deps`)"


def ensure_jars() -> None:
    """The Kafka jars with MirrorMaker 2's; fetched again if the pom changed (fetch_jars.sh)."""
    subprocess.run(["bash", str(ROOT / "infra" / "fetch_jars.sh"), "kafka"], check=True, timeout=600)


def _java(main: str, *args: str) -> list[str]:
    return [str(JAVA), *JVM_OPTS, f"-Dlog4j2.configurationFile={LOG4J2}", "-cp", f"{LIBS}/*", main, *args]


@dataclass
class JavaProcess:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return f"--- last {lines} lines of {self.log} ---\n" + "\n".join(line[:400] for line in text[-lines:])

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}\n{self.tail()}")

    def stop(self, timeout_s: float = 20) -> None:
        """SIGTERM (a clean shutdown), then SIGKILL; only this process, which we started."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def _launch(name: str, command: Sequence[str], log: Path) -> JavaProcess:
    with log.open("wb") as out:  # the child keeps its own descriptor
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return JavaProcess(name, proc, log)


@dataclass
class KafkaNode(JavaProcess):
    port: int

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def ready(self) -> bool:
        if "Kafka Server started" not in self.log.read_text(errors="replace"):
            return False
        with socket.socket() as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", self.port)) == 0


def _server_properties(port: int, controller_port: int, data: Path) -> str:
    # infra/conf/kafka/server.properties, on this node's own ports and directory.
    return f"""process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:{controller_port}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs={data}
num.network.threads=2
num.io.threads=2
num.partitions=1
default.replication.factor=1
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
"""


def _cluster_id() -> str:
    """What `StorageTool random-uuid` prints (a UUID in unpadded URL-safe base64), without a JVM."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


@contextlib.contextmanager
def kafka_clusters(workdir: Path, names: Sequence[str], *, timeout_s: float = 60) -> Iterator[dict[str, KafkaNode]]:
    """One single-node cluster per name, started side by side; yields them once every one
    serves clients, and stops them all afterwards."""
    configs = {}
    for name in names:
        home = workdir / f"kafka-{name}"
        home.mkdir(parents=True)
        port, controller_port = free_port(), free_port()
        config = home / "server.properties"
        config.write_text(_server_properties(port, controller_port, home / "data"))
        configs[name] = (home, port, config)
    formats = {
        name: _launch(
            f"kafka-{name} format",
            _java(
                "kafka.tools.StorageTool",
                "format",
                "--standalone",
                f"--cluster-id={_cluster_id()}",
                "--config",
                str(config),
            ),
            home / "format.log",
        )
        for name, (home, _, config) in configs.items()
    }
    nodes: dict[str, KafkaNode] = {}
    try:
        for name, fmt in formats.items():
            if fmt.proc.wait(timeout_s) != 0:
                raise RuntimeError(f"kafka-{name}: storage format failed\n{fmt.tail()}")
        for name, (home, port, config) in configs.items():
            started = _launch(f"kafka-{name}", _java("kafka.Kafka", str(config)), home / "kafka.log")
            nodes[name] = KafkaNode(started.name, started.proc, started.log, port)
        deadline = time.monotonic() + timeout_s
        for node in nodes.values():
            while not node.ready():
                node.check_alive()
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{node.name} not ready after {timeout_s:.0f} s\n{node.tail()}")
                time.sleep(0.2)
        yield nodes
    finally:
        for process in [*formats.values(), *nodes.values()]:
            process.stop()


@contextlib.contextmanager
def mirror_maker(workdir: Path, properties: str, *, clusters: Sequence[str] = ()) -> Iterator[JavaProcess]:
    """MirrorMaker 2 in dedicated mode (what the tarball's connect-mirror-maker.sh starts),
    with `properties` as its mm2.properties; `clusters` limits it to the flows into those
    targets (`--clusters`). Stopped when the context ends."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "mm2.properties"
    config.write_text(properties)
    args = [str(config), *(["--clusters", *clusters] if clusters else [])]
    process = _launch("mirror-maker", _java("org.apache.kafka.connect.mirror.MirrorMaker", *args), workdir / "mm2.log")
    try:
        yield process
    finally:
        process.stop()
