"""docker-py 5.0.3 (Debian's python3-docker) against minidocker.

Run by TestDockerPy with DOCKER_HOST set to a test daemon. It prints one
"ok <what>" line per check and exits non-zero at the first failure.
"""
import io
import sys
import tarfile
import time

import docker


def ok(what):
    print("ok", what, flush=True)


def main():
    c = docker.from_env(version="auto")
    assert c.ping()
    ok("ping")

    img = c.images.get("busybox:latest")
    img.tag("pytest/busybox", "v1")
    assert "pytest/busybox:v1" in c.images.get("pytest/busybox:v1").tags
    ok("images")

    vol = c.volumes.create("pyvol", labels={"by": "docker-py"})
    assert c.volumes.get("pyvol").attrs["Labels"] == {"by": "docker-py"}
    net = c.networks.create("pynet", labels={"by": "docker-py"})
    assert [n.name for n in c.networks.list(filters={"label": "by=docker-py"})] == ["pynet"]
    ok("volumes and networks")

    srv = c.containers.run("pytest/busybox:v1", ["sh", "-c", "echo ready; exec sleep 600"],
                           name="pysrv", detach=True, network="pynet",
                           volumes={"pyvol": {"bind": "/data", "mode": "rw"}})
    cli = c.containers.run("pytest/busybox:v1", ["sleep", "600"], name="pycli", detach=True, network="pynet")
    srv.reload()
    assert srv.status == "running"
    assert srv.attrs["Mounts"][0]["Name"] == "pyvol"
    ok("containers")

    code, out = srv.exec_run(["sh", "-c", "echo stored > /data/f; cat /data/f"])
    assert code == 0 and out == b"stored\n", (code, out)
    code, out = cli.exec_run(["ping", "-c", "1", "pysrv"])
    assert code == 0, out
    ok("exec and names")

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        data = b"put by docker-py\n"
        ti = tarfile.TarInfo("hello.txt")
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    assert srv.put_archive("/tmp", buf.getvalue())
    stream, stat = srv.get_archive("/tmp/hello.txt")
    raw = b"".join(stream)
    with tarfile.open(fileobj=io.BytesIO(raw)) as tf:
        assert tf.extractfile("hello.txt").read() == b"put by docker-py\n"
    assert stat["name"] == "hello.txt"
    ok("archives")

    st = srv.stats(stream=False)
    assert st["memory_stats"]["usage"] > 0, st["memory_stats"]
    ok("stats")

    assert b"ready" in srv.logs()
    ok("logs")

    since = int(time.time()) - 1
    short = c.containers.run("pytest/busybox:v1", ["sh", "-c", "exit 4"], name="pyev", detach=True)
    assert short.wait()["StatusCode"] == 4
    short.remove()
    until = int(time.time()) + 1
    seen = [(e["Action"], e["Actor"]["Attributes"].get("exitCode"), e.get("status"))
            for e in c.events(decode=True, since=since, until=until, filters={"container": "pyev"})]
    assert [a for a, _, _ in seen] == ["create", "start", "die", "destroy"], seen
    assert seen[2][1] == "4" and seen[2][2] == "die", seen
    ok("events")

    for ctr in (srv, cli):
        ctr.stop(timeout=1)
        ctr.remove()
    vol.remove()
    net.remove()
    c.images.remove("pytest/busybox:v1")
    assert c.containers.list(all=True) == []
    ok("cleanup")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 — the test prints what failed
        print("FAIL", type(e).__name__, e, file=sys.stderr)
        raise
