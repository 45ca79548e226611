"""Everything a running Dockhand holds, built once from settings."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import redis

from bot import store
from bot.audit import Audit
from bot.confirm import ConfirmStore
from bot.credentials import Credentials
from bot.pipeline import Pipeline
from bot.policy import Policy
from config import Settings
from config.policy import load_policy
from handlers.engines import Engines, translate_engine_errors
from handlers.errors import DockhandError


@dataclass
class Runtime:
    settings: Settings
    pipeline: Pipeline
    store: redis.Redis
    # Docker work runs here, never on Bolt's listener threads (five by default).
    executor: ThreadPoolExecutor = field(init=False)

    def __post_init__(self) -> None:
        self.executor = ThreadPoolExecutor(
            max_workers=self.settings.workers, thread_name_prefix="dockhand-docker"
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        engines = Engines(
            settings.hosts, timeout=settings.docker_timeout, api_version=settings.docker_api_version
        )
        policy = Policy(load_policy(settings.policy_file))
        shared = store.connect(settings.redis_url)
        credentials = Credentials(shared, settings.secret_key, settings.registry_credentials)
        pipeline = Pipeline(
            engines,
            policy,
            credentials,
            run_wait=settings.run_wait,
            audit=Audit(shared),
            confirmations=ConfirmStore(shared),
        )
        return cls(settings, pipeline, shared)

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Each engine and the store, reachable or not."""
        detail: dict[str, Any] = {"engines": {}, "store": "ok"}
        engines = self.pipeline.engines
        for host in engines.names:
            try:
                with translate_engine_errors(host, engines.url(host), engines.timeout):
                    engines.client(host).ping()
                detail["engines"][host] = "ok"
            except DockhandError as exc:
                detail["engines"][host] = exc.message
        try:
            self.store.ping()
        except redis.RedisError as exc:
            detail["store"] = f"unreachable: {exc}"
        healthy = detail["store"] == "ok" and all(v == "ok" for v in detail["engines"].values())
        return healthy, detail

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.pipeline.engines.close()
        self.store.close()
