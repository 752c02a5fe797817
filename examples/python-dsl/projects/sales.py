"""projects/sales.py: the SALES project, written in Python because its flow repeats per region.

dss-iac runs this file each time it loads the workspace. The file must set `project`; it builds the
same models a YAML project file is validated into, so `dss-iac validate`, `plan` and `apply` treat
it like any other project file. Adding a region is one word in REGIONS.
"""

from dataiku_iac.dsl import (
    BuildStep,
    Dataset,
    Project,
    ProjectFile,
    Recipe,
    Scenario,
    TemporalTrigger,
    Zone,
    columns,
)

# Region -> the color of its flow zone.
REGIONS = {"emea": "#2ab1ac", "amer": "#e57373", "apac": "#7986cb"}

# Every regional shop exports its orders with the same columns.
ORDER_COLUMNS = columns(order_id="bigint", customer_id="bigint", amount="double", ordered_at="date")

datasets: dict[str, Dataset] = {}
recipes: dict[str, Recipe] = {}
zones: dict[str, Zone] = {}
for region, color in REGIONS.items():
    raw, clean, copy = f"orders_{region}_raw", f"orders_{region}", f"copy_orders_{region}"
    # The CSV files the region's shop drops in the landing connection: DSS reads them, never owns them.
    datasets[raw] = Dataset(
        type="Filesystem", connection="landing", params={"path": f"/sales/{region}/orders"},
        format="csv", format_params={"separator": ",", "parseHeaderRow": True},
        schema=ORDER_COLUMNS, tags=["raw", region], description=f"Orders exported by the {region} shop",
    )
    # A managed parquet copy, written by a sync recipe.
    datasets[clean] = Dataset(type="Filesystem", managed=True, connection="storage", format="parquet",
                              tags=[region])
    recipes[copy] = Recipe(type="sync", inputs=[raw], outputs=[clean])
    zones[region] = Zone(color=color, items=[raw, copy, clean])

# All regions in one dataset, by a Python recipe whose code is a file next to this project
# (`code` is relative to this file, as in YAML).
datasets["orders_all"] = Dataset(type="Filesystem", managed=True, connection="storage", format="parquet",
                                 description="Orders of every region, with a region column")
recipes["union_orders"] = Recipe(type="python", inputs=[f"orders_{r}" for r in REGIONS], outputs=["orders_all"],
                                 code="../recipes/union_orders.py")

project = ProjectFile(
    project=Project(key="SALES", name="Sales by region", short_desc="Orders of every regional shop",
                    tags=["example", "python-dsl"]),
    datasets=datasets,
    recipes=recipes,
    zones=zones,
    scenarios={
        "nightly": Scenario(
            name="Nightly refresh",
            triggers=[TemporalTrigger(type="temporal", frequency="Daily", hour=3)],
            steps=[BuildStep(type="build", items=["orders_all"])],
        ),
    },
)

if __name__ == "__main__":
    # `python projects/sales.py` shows what this file builds; dss-iac never runs this block.
    print(project.model_dump_json(indent=2, by_alias=True, exclude_unset=True))
