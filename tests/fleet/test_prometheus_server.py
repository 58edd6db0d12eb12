"""A real Prometheus (Debian's binary) scrapes `statetui metrics --listen` with the shipped
rules loaded: the halted bot's alert goes pending or firing, the others' do not."""

from __future__ import annotations

import json
import subprocess
import urllib.parse
import urllib.request

from tests.fleet.fleetkit import fleet_config
from tests.fleet.prom import RULES, MetricsServer, binary, free_port, wait_for


def _get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return json.loads(resp.read())
    except OSError:
        return None


def test_prometheus_scrapes_and_the_halted_bots_alert_is_active(tmp_path):
    prometheus = binary("prometheus")
    config = fleet_config(tmp_path, {"alpha": {"cash": 60, "peak": 100, "halted": True},
                                     "beta": {"cash": 100, "peak": 100}})
    server = MetricsServer("--config", str(config))
    port = free_port()
    (tmp_path / "prometheus.yml").write_text(f"""
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: ["{RULES}"]
scrape_configs:
  - job_name: statetui
    static_configs: [{{targets: ["127.0.0.1:{server.port}"]}}]
""")
    with open(tmp_path / "prometheus.log", "w") as log:  # the child keeps its own copy of the descriptor
        prom = subprocess.Popen([prometheus, f"--config.file={tmp_path / 'prometheus.yml'}",
                                 f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
                                stdout=subprocess.DEVNULL, stderr=log)
    api = f"http://127.0.0.1:{port}/api/v1"
    try:
        def halted_alerts():  # the query API: Prometheus's own ALERTS series
            body = _get(f"{api}/query?query=" + urllib.parse.quote('ALERTS{alertname="StatetuiBotHalted"}'))
            return body and body["data"]["result"]

        alerts = wait_for(halted_alerts, 90, "StatetuiBotHalted pending or firing")
        assert [a["metric"]["bot"] for a in alerts] == ["alpha"]
        assert alerts[0]["metric"]["alertstate"] in ("pending", "firing")
        (listed,) = [a for a in _get(f"{api}/alerts")["data"]["alerts"] if a["labels"]["alertname"] == "StatetuiBotHalted"]
        assert listed["annotations"]["next_step"] == "statetui --bot alpha audit"
        up = _get(f"{api}/query?query=statetui_halted")
        values = {r["metric"]["bot"]: r["value"][1] for r in up["data"]["result"]}
        assert values == {"alpha": "1", "beta": "0"}
    finally:
        prom.terminate()
        try:
            prom.wait(timeout=20)
        except subprocess.TimeoutExpired:
            prom.kill()
            prom.wait()
        assert server.stop() == 0
