"""A thin adapter that turns ServiceSpecs into containers on one Docker engine (docker-py).

Every object it creates carries `dockyard.instance`; it never touches an object without this instance's label.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import docker
import docker.errors
import httpx
import requests.exceptions
from docker.models.containers import Container
from docker.types import IPAMConfig, IPAMPool

from core import labels
from core.errors import DeployError, TimedOut
from core.shell import exec_form
from scheduler.desired import (
    APP_SUBNET_PREFIX,
    DEFAULT_NETWORK_POOL,
    WEB,
    Limits,
    ServiceSpec,
    app_network,
    free_subnet,
)
from scheduler.reconcile import Action, Observed, Start
from scheduler.runtime.errors import engine_errors

# How long one health probe may take; a slow answer is retried, not awaited.
PROBE_TIMEOUT = 2.0
PROBE_INTERVAL = 0.25
DEFAULT_STOP_TIMEOUT = 10  # the engine's own default
NETWORK_ATTEMPTS = 5
# The label of the platform's own containers (the container install's Caddy and worker): each joins every app
# network of its instance, so the proxy reaches web containers and the worker probes their health. In host
# mode the host itself reaches every bridge network and no container carries it.
JOINS_APP_NETWORKS = "dockyard.joins_app_networks"


def _limits(limits: Limits) -> dict[str, Any]:
    """docker-py's create() arguments for `limits`."""
    options: dict[str, Any] = {}
    if limits.memory is not None:
        options["mem_limit"] = limits.memory
        options["memswap_limit"] = limits.memory  # no swap beyond the limit: a leak fails fast
    if limits.cpus is not None:
        options["nano_cpus"] = int(limits.cpus * 1e9)
    return options


class DockerRuntime:
    """Runs an instance's containers on a single engine: each app on its own bridge network."""

    def __init__(
        self, client: docker.DockerClient, instance: str, *, network_pool: str = DEFAULT_NETWORK_POOL
    ) -> None:
        self.client = client
        self.instance = instance
        self.network_pool = network_pool

    # --- starting -------------------------------------------------------------------------------------

    def start(self, spec: ServiceSpec) -> str:
        """Create and start the container for `spec` (replacing a stale one of the same name); its id."""
        with engine_errors(f"starting {spec.name}"):
            container = self._create(spec, restart_policy={"Name": "unless-stopped"})
            container.start()
            return str(container.id)

    def run_once(self, spec: ServiceSpec, *, timeout: float) -> tuple[int, str]:
        """Run `spec.command` to completion in a throwaway container; (exit code, its output).

        Used for release commands and one-off commands: same image, env, volumes and network as the app.
        """
        with engine_errors(f"running {spec.name}"):
            container = self._create(spec, restart_policy=None)
            try:
                container.start()
                try:
                    result = container.wait(timeout=timeout)
                except requests.exceptions.ReadTimeout as error:
                    container.kill()
                    output = container.logs(stdout=True, stderr=True).decode("utf-8", errors="replace")
                    raise TimedOut(
                        f"`{spec.command}` ran past {timeout:g} s and was stopped; last output:\n"
                        + "\n".join(output.rstrip().splitlines()[-20:])
                    ) from error
                output = container.logs(stdout=True, stderr=True).decode("utf-8", errors="replace")
                return int(result.get("StatusCode", -1)), output
            finally:
                container.remove(force=True)

    def _create(self, spec: ServiceSpec, *, restart_policy: dict[str, str] | None) -> Container:
        """Create (not start) the container for `spec`, with its network and volumes ready."""
        self._ensure_network(spec.network, spec.app)
        for volume, path in spec.volumes.items():
            if self._ensure_volume(volume, spec.app):
                self._hand_to_image_user(spec, volume, path)
        self._remove_stale(spec.name)
        # create + start rather than run(): run() would try to pull a missing image from a registry,
        # but release images are built on this engine, so a missing one is a plain error.
        return self.client.containers.create(
            spec.image,
            # Procfile-style commands expect a shell (`$PORT`, `&&`); None keeps the image's CMD.
            command=None if spec.command is None else ["/bin/sh", "-c", exec_form(spec.command)],
            name=spec.name,
            # docker-py's create() takes no stop timeout: a label keeps it for whoever stops it.
            labels={**spec.labels, labels.STOP_TIMEOUT: str(spec.stop_timeout)},
            environment=spec.env,
            volumes={name: {"bind": path, "mode": "rw"} for name, path in spec.volumes.items()},
            network=spec.network,
            # An init as PID 1 forwards SIGTERM to the app (PID 1 ignores it otherwise) and reaps zombies.
            init=True,
            # No raw sockets: an app cannot forge packets to the platform's addresses (Caddy's admin API
            # listens on a network apps do not join) or sniff its neighbours. Heroku allows none either.
            cap_drop=["NET_RAW"],
            **({"restart_policy": restart_policy} if restart_policy else {}),
            **_limits(spec.limits),
            detach=True,
        )

    def observe(self) -> list[Observed]:
        """Every container of this instance, as the reconciler sees it."""
        with engine_errors("listing containers"):
            found = self._list(labels.owned(self.instance))
        return [
            Observed(
                id=str(container.id),
                name=str(container.name),
                app=container.labels.get(labels.APP, ""),
                service=container.labels.get(labels.SERVICE, ""),
                release=int(container.labels.get(labels.RELEASE, "0") or 0),
                state=str(container.attrs["State"]["Status"]),
            )
            for container in found
            if container.labels.get(labels.SERVICE)  # one-off and helper containers are not services
            and container.labels.get(labels.ONE_OFF) is None
        ]

    def apply(self, action: Action) -> None:
        """Carry out one reconcile action."""
        if isinstance(action, Start):
            self.start(action.spec)
        else:
            self.stop(action.container.id, timeout=None)
            self.remove(action.container.id)

    def has_image(self, image: str) -> bool:
        """Whether the engine still has `image`."""
        with engine_errors(f"inspecting image {image}"):
            try:
                self.client.images.get(image)
            except docker.errors.ImageNotFound:
                return False
        return True

    def web_upstreams(self, app: str, release: int, port: int) -> list[str]:
        """The "ip:port" of every running web container of `release`, by name.

        Also (re)joins the platform's containers to the app's network, so a proxy recreated since the app
        started (an upgrade) reaches these addresses again.
        """
        wanted = labels.owned(self.instance, app, service=WEB, release=str(release))
        with engine_errors(f"listing web containers of {app}"):
            found = sorted(self._list(wanted), key=lambda c: str(c.name))
            if found:
                self._join_platform(app_network(self.instance, app))
        upstreams = [self._upstream_of(c, port) for c in found if c.status == "running"]
        return [upstream for upstream in upstreams if upstream is not None]

    def _ensure_network(self, name: str, app: str) -> None:
        try:
            network = self.client.networks.get(name)
        except docker.errors.NotFound:
            self._create_network(name, app)
        else:
            self._check_owned(network.attrs.get("Labels"), f"network {name}")
        self._join_platform(name)

    def _platform_containers(self) -> list[Container]:
        """This instance's platform containers that join app networks (none on a host install)."""
        return self._list({labels.INSTANCE: self.instance, JOINS_APP_NETWORKS: "true"})

    def _join_platform(self, network: str) -> None:
        """Connect each running platform container to `network` unless it is already on it."""
        for container in self._platform_containers():
            if container.status != "running" or network in container.attrs["NetworkSettings"]["Networks"]:
                continue
            try:
                self.client.networks.get(network).connect(container.id)
            except docker.errors.APIError as error:
                # Another pass connected it meanwhile.
                if "already exists" not in str(error.explanation or error):
                    raise

    def _create_network(self, name: str, app: str) -> None:
        """A bridge network with a subnet of Dockyard's pool; another creator taking it first is retried."""
        for _attempt in range(NETWORK_ATTEMPTS):
            taken = [
                config["Subnet"]
                for network in self.client.networks.list()
                for config in ((network.attrs.get("IPAM") or {}).get("Config") or [])
                if config.get("Subnet") and ":" not in config["Subnet"]  # IPv6 subnets cannot overlap ours
            ]
            subnet = free_subnet(self.network_pool, taken)
            if subnet is None:
                raise DeployError(
                    f"no free /{APP_SUBNET_PREFIX} subnet left in DOCKYARD_NETWORK_POOL={self.network_pool}: "
                    "give Dockyard a larger pool"
                )
            try:
                self.client.networks.create(
                    name,
                    driver="bridge",
                    labels=labels.owned(self.instance, app),
                    check_duplicate=True,
                    ipam=IPAMConfig(pool_configs=[IPAMPool(subnet=subnet)]),
                )
                return
            except docker.errors.APIError as error:
                if "overlap" not in str(error.explanation or error).lower():
                    raise
        raise DeployError(f"could not find a free subnet for network {name} in {NETWORK_ATTEMPTS} attempts")

    def _ensure_volume(self, name: str, app: str) -> bool:
        """Create the volume unless it exists; True when it was created."""
        try:
            volume = self.client.volumes.get(name)
        except docker.errors.NotFound:
            self.client.volumes.create(name, labels=labels.owned(self.instance, app))
            return True
        self._check_owned(volume.attrs.get("Labels"), f"volume {name}")
        return False

    def _hand_to_image_user(self, spec: ServiceSpec, volume: str, path: str) -> None:
        """Give a new volume to the user the image runs as.

        A fresh volume mounted where the image has no directory is owned by root, so an app running as
        a non-root user (as Dockyard's images do) could not write its uploads there.
        """
        user = (self.client.images.get(spec.image).attrs.get("Config") or {}).get("User") or ""
        if user in ("", "root", "0") or user.startswith(("root:", "0:")):
            return
        owner = user if ":" in user else f"{user}:"  # "user:" also sets the user's login group
        self.client.containers.run(
            spec.image,
            entrypoint=["chown", owner, path],
            command=[],
            user="root",
            volumes={volume: {"bind": path, "mode": "rw"}},
            labels=spec.labels,
            network_disabled=True,
            remove=True,
        )

    def _remove_stale(self, name: str) -> None:
        try:
            container = self.client.containers.get(name)
        except docker.errors.NotFound:
            return
        self._check_owned(container.labels, f"container {name}")
        container.remove(force=True)

    def _check_owned(self, object_labels: dict[str, str] | None, what: str) -> None:
        if (object_labels or {}).get(labels.INSTANCE) != self.instance:
            raise DeployError(f"{what} exists but does not belong to Dockyard instance {self.instance!r}")

    # --- health ---------------------------------------------------------------------------------------

    def upstream(self, container_id: str, port: int) -> str:
        """The "ip:port" the proxy dials for this container.

        The one place that decides how upstreams resolve (with `_upstream_of`): today the container's
        address on its app network; a swarm or shared-edge-network backend would return a name instead.
        """
        container = self._container(container_id)
        upstream = self._upstream_of(container, port)
        if upstream is None:
            raise DeployError(f"container {container.name} has no address on its app network")
        return upstream

    def _upstream_of(self, container: Container, port: int) -> str | None:
        network = app_network(self.instance, container.labels[labels.APP])
        address = container.attrs["NetworkSettings"]["Networks"].get(network, {}).get("IPAddress")
        return f"{address}:{port}" if address else None

    def wait_healthy(self, container_id: str, *, port: int, path: str = "/", timeout: float) -> str:
        """Poll `GET <path>` until it answers below 500; the upstream. Fails fast if the container dies."""
        deadline = time.monotonic() + timeout
        # trust_env=False: an HTTP(S)_PROXY in our environment must not carry probes to a container address.
        with httpx.Client(timeout=PROBE_TIMEOUT, trust_env=False) as http:
            while True:
                container = self._container(container_id)
                self._fail_if_died(container)
                # No address means it is between runs; the next inspection tells whether it died.
                upstream = self._upstream_of(container, port) if container.status == "running" else None
                if upstream is not None:
                    try:
                        if http.get(f"http://{upstream}{path}").status_code < 500:
                            return upstream
                    except httpx.HTTPError:
                        pass  # not listening yet
                if time.monotonic() >= deadline:
                    raise DeployError(
                        f"{container.name} did not answer GET {path} below 500 within {timeout:g} s"
                        + self._logs_suffix(container)
                    )
                time.sleep(PROBE_INTERVAL)

    def _fail_if_died(self, container: Container) -> None:
        # A restart means the process already exited once: waiting longer would only hide the crash loop.
        if (
            container.attrs["State"]["Status"] in ("exited", "dead")
            or container.attrs.get("RestartCount", 0) > 0
        ):
            raise DeployError(
                f"{container.name} exited with code {self._exit_code(container)} before answering"
                + self._logs_suffix(container)
            )

    def _exit_code(self, container: Container) -> int | str:
        state = container.attrs["State"]
        if state["Status"] in ("exited", "dead"):
            return int(state["ExitCode"])
        # Restarted already: State.ExitCode was reset, but the engine's `die` event kept the code.
        created = datetime.fromisoformat(container.attrs["Created"][:19]).replace(tzinfo=UTC)
        with engine_errors(f"reading events of {container.name}"):
            events = self.client.events(
                since=created,
                # Fractional "now" (the API takes seconds.nanoseconds): a whole second would either drop
                # this second's events or make the engine hold the stream open until it has passed.
                until=f"{time.time():.6f}",
                filters={"container": container.id, "event": "die"},
                decode=True,
            )
            codes = [event["Actor"]["Attributes"].get("exitCode") for event in events]
        return codes[-1] if codes and codes[-1] is not None else "unknown"

    def _logs_suffix(self, container: Container) -> str:
        logs = self._tail(container, 20)
        return f"; last log lines:\n{logs}" if logs else "; it logged nothing"

    # --- stopping -------------------------------------------------------------------------------------

    def stop(self, container_id: str, timeout: int | None = 10) -> None:
        """Send SIGTERM, then SIGKILL after `timeout` seconds (None: the stop timeout its spec asked for)."""
        with engine_errors(f"stopping {container_id}"):
            container = self._container_or_none(container_id)
            if container is not None:
                if timeout is None:
                    timeout = int(container.labels.get(labels.STOP_TIMEOUT, DEFAULT_STOP_TIMEOUT))
                container.stop(timeout=timeout)

    def remove(self, container_id: str) -> None:
        """Remove the container (killing it if it still runs); a missing container is fine."""
        with engine_errors(f"removing {container_id}"):
            container = self._container_or_none(container_id)
            if container is not None:
                container.remove(force=True)

    def remove_app(self, app: str) -> None:
        """Remove all of an app's containers and its network; volumes stay (they hold the app's data)."""
        owned = labels.owned(self.instance, app)
        with engine_errors(f"removing {app}"):
            for container in self._list(owned):
                container.remove(force=True)
            filters = {"label": labels.label_filters(owned)}
            platform = {str(container.id) for container in self._platform_containers()}
            for network in self.client.networks.list(filters=filters):
                network.reload()  # listing leaves out the connected containers
                # A network with endpoints cannot be removed: let the proxy and workers go first.
                for container_id in network.attrs.get("Containers") or {}:
                    if container_id in platform:
                        network.disconnect(container_id, force=True)
                network.remove()

    # --- reading --------------------------------------------------------------------------------------

    def containers(self, app: str) -> list[dict[str, Any]]:
        """The app's containers as {name, service, release, status}, by name."""
        with engine_errors(f"listing containers of {app}"):
            found = self._list(labels.owned(self.instance, app))
        return sorted(
            (
                {
                    "name": container.name,
                    "service": container.labels.get(labels.SERVICE),
                    "release": int(container.labels.get(labels.RELEASE, "0")),
                    "status": container.status,
                }
                for container in found
            ),
            key=lambda row: str(row["name"]),
        )

    def last_logs(self, container_id: str, lines: int = 20) -> str:
        """The last `lines` lines the container wrote to stdout and stderr."""
        return self._tail(self._container(container_id), lines)

    def _tail(self, container: Container, lines: int) -> str:
        with engine_errors(f"reading logs of {container.name}"):
            raw = container.logs(stdout=True, stderr=True, tail=lines)
        return raw.decode("utf-8", errors="replace").rstrip()

    def _list(self, wanted: dict[str, str]) -> list[Container]:
        return list(self.client.containers.list(all=True, filters={"label": labels.label_filters(wanted)}))

    def _container(self, container_id: str) -> Container:
        with engine_errors(f"inspecting {container_id}"):
            container = self._container_or_none(container_id)
        if container is None:
            raise DeployError(f"container {container_id} is gone")
        return container

    def _container_or_none(self, container_id: str) -> Container | None:
        try:
            container = self.client.containers.get(container_id)
        except docker.errors.NotFound:
            return None
        self._check_owned(container.labels, f"container {container.name}")
        return container

    # --- operations -----------------------------------------------------------------------------------

    def remove_images(self, app: str) -> list[str]:
        """Remove every image labelled with this instance and `app` (releases and build stages); their tags.

        Newest first, so an image goes before a stage it was built on; call it once the app's containers
        are gone.
        """
        owned = {"label": labels.label_filters(labels.owned(self.instance, app))}
        removed: list[str] = []
        with engine_errors(f"removing the images of {app}"):
            images = sorted(
                self.client.images.list(filters=owned), key=lambda i: str(i.attrs["Created"]), reverse=True
            )
            for image in images:
                try:
                    self.client.images.remove(image.id, force=True)
                except docker.errors.ImageNotFound:
                    continue  # pruned with an image removed before it
                removed.extend(image.tags or [image.short_id])
        return removed

    def remove_volumes(self, app: str) -> list[str]:
        """Remove the volumes labelled with this instance and `app` (their data is lost); their names."""
        owned = {"label": labels.label_filters(labels.owned(self.instance, app))}
        with engine_errors(f"removing the volumes of {app}"):
            volumes = self.client.volumes.list(filters=owned)
            for volume in volumes:
                volume.remove(force=True)
        return sorted(str(volume.name) for volume in volumes)

    def log_sources(self, app: str, process: str | None = None) -> list[dict[str, str]]:
        """The app's process containers (one-offs left out) as {id, source ("web.1"), state}, by name."""
        wanted = labels.owned(self.instance, app, **({"service": process} if process else {}))
        with engine_errors(f"listing containers of {app}"):
            found = sorted(self._list(wanted), key=lambda c: str(c.name))
        return [
            {
                "id": str(container.id),
                "source": f"{container.labels[labels.SERVICE]}.{container.labels.get(labels.REPLICA, '1')}",
                "state": str(container.attrs["State"]["Status"]),
            }
            for container in found
            if container.labels.get(labels.SERVICE) and container.labels.get(labels.ONE_OFF) is None
        ]

    def logs(
        self, container_id: str, *, tail: int | None, follow: bool, since: float | None = None
    ) -> tuple[Iterator[str], docker.types.CancellableStream]:
        """The container's log lines, each "<RFC 3339 nanosecond time> <text>", and the stream under them.

        `tail` None reads from the start (or from `since`, a Unix time). With `follow` the lines keep
        coming until the container stops or the stream's `close()` is called, from any thread.
        """
        with engine_errors(f"reading logs of {container_id}"):
            container = self._container(container_id)
            stream = container.logs(
                stdout=True,
                stderr=True,
                stream=True,
                follow=follow,
                timestamps=True,
                tail="all" if tail is None else tail,
                since=since,
            )
        return self._split_lines(stream), stream

    @staticmethod
    def _split_lines(chunks: Iterator[bytes]) -> Iterator[str]:
        # The engine sends one frame per log entry, but an entry over 16 KiB comes in several frames.
        pending = b""
        for chunk in chunks:
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for line in complete:
                yield line.decode("utf-8", errors="replace")
        if pending:
            yield pending.decode("utf-8", errors="replace")
