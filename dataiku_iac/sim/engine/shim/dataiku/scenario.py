"""`dataiku.scenario.Scenario` for scenario Python steps run by the DSS simulator: builds, metrics, checks and
variables go through the simulator's public API (`dataiku.api_client()`)."""

from __future__ import annotations

from typing import Any

from . import api_client, default_project_key, get_custom_variables


class Scenario:
    def __init__(self) -> None:
        self._variables: dict[str, Any] = {}

    def _project(self, project_key: str | None = None) -> Any:
        return api_client().get_project(project_key or default_project_key())

    def build_dataset(self, dataset_name: str, project_key: str | None = None, build_mode: str = "RECURSIVE_BUILD",
                      partitions: Any = None, step_name: str | None = None, asynchronous: bool = False,
                      fail_fatal: bool = True, **kwargs: Any) -> Any:
        if "." in dataset_name:
            project_key, dataset_name = dataset_name.split(".", 1)
        job = self._project(project_key).new_job(build_mode).with_output(dataset_name, partition=partitions)
        return job.start() if asynchronous else job.start_and_wait(no_fail=not fail_fatal)

    def compute_dataset_metrics(self, dataset_name: str, project_key: str | None = None, **kwargs: Any) -> Any:
        return self._project(project_key).get_dataset(dataset_name).compute_metrics()

    def run_dataset_checks(self, dataset_name: str, project_key: str | None = None, **kwargs: Any) -> Any:
        return self._project(project_key).get_dataset(dataset_name).run_checks()

    def set_scenario_variables(self, **variables: Any) -> None:
        self._variables.update(variables)

    def get_all_variables(self) -> dict[str, Any]:
        return {**get_custom_variables(typed=True), **self._variables}

    def set_project_variables(self, project_key: str | None = None, **variables: Any) -> None:
        project = self._project(project_key)
        current = project.get_variables()
        current["standard"].update(variables)
        project.set_variables(current)

    def __getattr__(self, name: str) -> Any:
        raise NotImplementedError(f"Scenario.{name} is not provided by the DSS simulator's dataiku package")
