"""Drop the sample extracts into the `lake` connection of an environment, as an upstream system would.

    python sample-data/drop_sample_extracts.py [WORKSPACE] [ENV]      # defaults: the example, dev

Each folder beside this script goes to the `params.path` of the dataset that reads it, under the root of the
Filesystem connection `lake` maps to in ENV (read through dataikuapi). The embedded DSS's `${dip.home}` is its
node's folder (.dss-iac/sim/embedded/<node>/); a real DSS's root is on its server, where the upstream system
writes.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from dataiku_iac import Workspace

HERE = Path(__file__).resolve().parent  # sample-data/
EXTRACTS = {"customers": ("FEATURES", "customers_raw"), "transactions": ("FEATURES", "transactions_raw")}


def main(root: Path = HERE.parent, env: str = "dev") -> list[Path]:
    written = []
    with Workspace.load(root) as ws:
        environment = ws.environment(env)
        if environment.host != "embedded":
            raise SystemExit(f"{env} is a real DSS: its upstream systems drop the extracts on its server")
        connection = environment.remap.connections.get("lake", "lake")
        params = ws.connection(env).client.get_connection(connection).get_settings().get_raw()["params"]
        # DSS's `${dip.home}` (and a relative root) is the node's data folder: the embedded DSS keeps it here.
        dip_home = ws.root / ".dss-iac" / "sim" / "embedded" / environment.node
        base = Path(str(params["root"]).replace("${dip.home}", str(dip_home)))
        if not base.is_absolute():
            base = dip_home / base
        for folder, (key, dataset) in EXTRACTS.items():
            target = base / ws.config.projects[key].spec.datasets[dataset].params["path"].lstrip("/")
            target.mkdir(parents=True, exist_ok=True)
            for source in sorted((HERE / folder).glob("*.csv")):
                written.append(Path(shutil.copy(source, target / source.name)))
    return written


if __name__ == "__main__":
    for path in main(*(Path(a) if i == 0 else a for i, a in enumerate(sys.argv[1:3]))):  # type: ignore[arg-type]
        print(f"dropped {path}")
