"""``graphtwin serve``: the GraphQL/REST server with MQTT ingestion, under uvicorn."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from typing import Any

from graph.errors import GraphError
from server.broker import BrokerStartError
from server.config import DEFAULT_STORE_DIR, ConfigError, Settings, load_ingest_config

__all__ = ["register", "run_serve", "settings_from_args"]


def register(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="run the server: GraphQL, REST, MQTT ingestion",
        description="Serve the twin graph over GraphQL and REST, kept live from MQTT telemetry.",
    )
    p.add_argument(
        "--store",
        help=f"embedded store directory (default {DEFAULT_STORE_DIR}, env GRAPHTWIN_STORE) "
        "or a neo4j:// / bolt:// URI",
    )
    p.add_argument("--neo4j-user", help="Neo4j user (env GRAPHTWIN_NEO4J_USER)")
    p.add_argument("--neo4j-password", help="Neo4j password (env GRAPHTWIN_NEO4J_PASSWORD)")
    p.add_argument(
        "--mqtt",
        help="broker URL mqtt://[user:pass@]host:port (env GRAPHTWIN_MQTT); "
        "none: start the embedded broker",
    )
    p.add_argument("--mqtt-port", type=int, help="port of the embedded broker (default 1883)")
    p.add_argument(
        "--models", dest="models_dir", metavar="DIR", help="load the DTDL files in DIR at startup"
    )
    p.add_argument(
        "--demo",
        action="store_true",
        default=None,
        help="load the demo models and twins and publish simulated telemetry every second",
    )
    p.add_argument(
        "--demo-interval",
        type=_interval,
        metavar="SECONDS",
        help="with --demo: seconds between simulated readings (default 1; 0: no simulator)",
    )
    p.add_argument("--host", help="HTTP address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="HTTP port (default 8000)")
    p.add_argument(
        "--ingest-config", metavar="FILE", help="ingestion config, YAML or TOML (docs/ingestion.md)"
    )
    p.add_argument("--auth", dest="auth_file", metavar="FILE", help="API keys / users file")
    p.add_argument(
        "--open",
        dest="open_mode",
        action="store_true",
        default=None,
        help="accept API requests without credentials",
    )
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.set_defaults(func=run_serve)


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides = {
        name: getattr(args, name, None)
        for name in (
            "store",
            "neo4j_user",
            "neo4j_password",
            "mqtt",
            "mqtt_port",
            "models_dir",
            "demo",
            "demo_interval",
            "host",
            "port",
            "auth_file",
            "open_mode",
        )
    }
    if getattr(args, "ingest_config", None):
        overrides["ingest"] = load_ingest_config(args.ingest_config)
    return Settings.from_env(**overrides)


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds >= 0")
    return value


def _banner(settings: Settings) -> str:
    base = f"http://{settings.host}:{settings.port}"
    if settings.mqtt:
        from server.config import parse_mqtt_url

        mhost, mport, _, _ = parse_mqtt_url(settings.mqtt)
        broker = f"{settings.mqtt}"
    else:
        mhost, mport = "localhost", settings.mqtt_port
        broker = f"embedded, mqtt://127.0.0.1:{mport}"
    twin = "<twinId>"
    demo = ""
    if settings.demo:
        from server.app import DEMO_QUIET_TWIN

        twin = DEMO_QUIET_TWIN
        demo = (
            f"  demo:     simulated telemetry every {settings.demo_interval:g}s for every sensor"
            f" but {twin}\n"
            if settings.demo_interval > 0
            else "  demo:     simulator off (--demo-interval 0)\n"
        )
    return (
        f"GraphTwin serving\n"
        f"  GraphQL:  {base}/graphql   (GraphiQL in a browser)\n"
        f"  health:   {base}/healthz   metrics: {base}/metrics   dead letters: {base}/deadletters\n"
        f"  store:    {settings.store}\n"
        f"  MQTT:     {broker}\n"
        f"{demo}"
        f"  try:      mosquitto_pub -h {mhost} -p {mport} -q 1 -t twins/{twin}/telemetry "
        "-m '{\"temperature\": 21.5}'\n"
    )


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.app import create_app, settle_gc

    # amqtt's state machine (transitions) logs every session change at INFO.
    for noisy in ("transitions", "amqtt"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = settings_from_args(args)
        app = create_app(settings)
    except KeyboardInterrupt:  # Ctrl-C while loading models or the demo
        return 130
    except (ConfigError, OSError, GraphError, BrokerStartError) as exc:
        # A model the parser refuses carries each error with its file, line and column.
        details = [str(e) for e in getattr(exc, "errors", ())]
        print("\n".join([f"graphtwin serve: {exc}", *details]), file=sys.stderr)
        return 2
    if settings.demo:
        print(
            "WARNING: --demo runs in OPEN MODE: anyone who can reach the port can read and write.",
            file=sys.stderr,
        )
    settle_gc()  # the loaded graph out of the cyclic GC's rescans; batches collected less often
    print(_banner(settings), flush=True)
    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, log_level=args.log_level, lifespan="on"
    )
    server = uvicorn.Server(config)
    # uvicorn re-raises Ctrl-C after a clean shutdown (the lifespan has drained
    # ingestion and closed the store by then): nothing left to report.
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    return 0
