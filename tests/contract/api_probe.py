"""Call a dataikuapi method the contract tests do not cover, with probe arguments, on a probe project, and
say how it fails: that is the 'not supported' error of the table (api_table.json)."""

from __future__ import annotations

import contextlib
import inspect
import io
import re
import signal
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from dataikuapi import DSSClient
from dataikuapi.dss.future import DSSFuture
from dataikuapi.dss.project import DSSProject

PROBE_SECONDS = 5
_DICT_NAMES = re.compile(r"(definition|settings|body|params|obj|config|data|metadata|schema|variables|"
                         r"permissions|spec|payload|dict|raw|remapping|options|conf)$", re.I)


class ProbeTimeout(Exception):
    pass


class UnusableHandle(Exception):
    """A handle made without a request, whose first use fails."""


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Some methods poll until a task ends: give up after a while (main thread only, where tests run)."""
    def fire(*_: Any) -> None:
        raise ProbeTimeout(f"still waiting after {seconds:g} s")
    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _argument(name: str, scratch: str) -> Any:
    if name in ("fp", "stream", "f", "file_obj", "data_stream"):
        return io.BytesIO(b"")
    if name in ("folder", "directory", "local_folder"):  # a local directory with a file to upload
        Path(scratch, name).mkdir(exist_ok=True)
        Path(scratch, name, "probe.txt").write_text("probe\n", encoding="utf-8")
        return str(Path(scratch, name))
    if name.endswith(("path", "file", "filename")) or name in ("output_file", "target"):
        return f"{scratch}/{name}"
    if _DICT_NAMES.search(name):
        return {}
    if name.endswith("s") and not name.endswith(("ss", "us")):
        return []
    return "probe"


def objects(client: DSSClient, project: DSSProject,
            automation: DSSClient | None = None) -> dict[str, Callable[[], Any]]:
    """A handle of each class of api_surface.CLASSES on the probe project (made lazily); instance objects are
    made once per node under fixed probe names; `automation`: a client of an automation node (its code envs)."""

    def dataset() -> Any:
        if not project.get_dataset("probe_ds").exists():
            project.create_dataset("probe_ds", "Filesystem", params={"connection": "filesystem_managed",
                                                                     "path": "/probe"}, formatType="csv")
        return project.get_dataset("probe_ds")

    def folder() -> Any:
        found = [f for f in project.list_managed_folders() if f["name"] == "probe_folder"]
        fid = found[0]["id"] if found else project.create_managed_folder(
            "probe_folder", connection_name="filesystem_folders").id
        return project.get_managed_folder(fid)

    def recipe() -> Any:
        dataset()
        if "probe_recipe" not in [r.name for r in project.list_recipes()]:
            creator = project.new_recipe("sync").with_input("probe_ds").with_new_output("probe_out",
                                                                                       "filesystem_managed")
            creator.set_name("probe_recipe")  # returns None, unlike the with_* methods
            creator.create()
        return project.get_recipe("probe_recipe")

    def scenario() -> Any:
        ids = [s.id for s in project.list_scenarios()]
        # A test scenario: the client refuses report downloads of other scenarios before any request.
        return project.get_scenario(ids[0]) if ids else project.create_scenario(
            "Probe", "step_based", definition={"markedAsTest": True})

    def article() -> Any:
        wiki = project.get_wiki()
        names = [a.get_data().get_name() for a in wiki.list_articles()]
        return wiki.get_article("Probe") if "Probe" in names else wiki.create_article("Probe")

    def library_file() -> Any:
        library = project.get_library()
        found = library.get_file("/python/probe.py")
        return found or library.get_folder("/python").add_file("probe.py")

    def connection() -> Any:
        if "probe_conn" not in client.list_connections_names("all"):
            client.create_connection("probe_conn", "Filesystem", {"root": "/tmp/probe"})
        return client.get_connection("probe_conn")

    def code_env(on: DSSClient, mode: str) -> Any:
        if "probe_env" not in [e["envName"] for e in on.list_code_envs()]:
            on.create_code_env("PYTHON", "probe_env", mode)
        return on.get_code_env("PYTHON", "probe_env")

    def group() -> Any:
        if "probe_group" not in [g["name"] for g in client.list_groups()]:
            client.create_group("probe_group")
        return client.get_group("probe_group")

    def user() -> Any:
        if "probe_user" not in [u["login"] for u in client.list_users()]:
            client.create_user("probe_user", "probe-password")
        return client.get_user("probe_user")

    def automation_env_settings() -> Any:
        if automation is None:
            raise UnusableHandle("no automation node to probe its code envs on")
        return code_env(automation, "AUTOMATION_SINGLE").get_settings()

    return {
        "DSSClient": lambda: client,
        "DSSConnection": connection,
        "DSSConnectionSettings": lambda: connection().get_settings(),
        "DSSConnectionDetailsReadability": lambda: connection().get_settings().details_readability,
        "DSSCodeEnv": lambda: code_env(client, "DESIGN_MANAGED"),
        "DSSDesignCodeEnvSettings": lambda: code_env(client, "DESIGN_MANAGED").get_settings(),
        "DSSAutomationCodeEnvSettings": automation_env_settings,
        "DSSGroup": group,
        "DSSUser": user,
        "DSSUserSettings": lambda: user().get_settings(),
        "DSSProject": lambda: project,
        "DSSDataset": dataset,
        "DSSManagedFolder": folder,
        "DSSRecipe": recipe,
        "DSSScenario": scenario,
        "DSSProjectFlow": project.get_flow,
        "DSSFlowZone": lambda: project.get_flow().get_default_zone(),
        "DSSWiki": project.get_wiki,
        "DSSWikiArticle": article,
        "DSSLibrary": project.get_library,
        "DSSLibraryFolder": lambda: project.get_library().get_folder("/python"),
        "DSSLibraryFile": library_file,
        "DSSProjectGit": project.get_project_git,
        "DSSFuture": lambda: DSSFuture(client, "probe_future"),
        "DSSJob": lambda: project.get_job("probe_job"),
        "DSSScenarioRun": lambda: scenario().run_and_wait(no_fail=True),
        "DSSTriggerFire": lambda: scenario().run(),
    }


def normalise(message: str, project_key: str) -> str:
    """The error as the table states it: the probe project's key and run-specific ids replaced."""
    message = message.replace(project_key, "{projectKey}")
    message = re.sub(r"/tmp/[^\s'\"]+", "<path>", message)
    message = re.sub(r"\b\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-\d{3}\b", "<runId>", message)
    return message.splitlines()[0][:300] if message else message


# What a handle or builder that a method returns without any request is for: its first call of these that
# needs no argument (a query object it returns is used in turn).
_HANDLE_USES = ("get_settings", "get_info", "get_status", "get_content", "list_discussions", "list_versions_ids",
                "list_experiments", "new_completion", "wait_for_result", "start", "prepare", "execute", "create",
                "run", "get_definition", "get_raw")


def _use_handle(result: Any, depth: int = 0) -> None:
    """A method that only makes a handle (project.get_dashboard) works as far as its handle does."""
    if not type(result).__module__.startswith("dataikuapi") or depth > 1:
        return
    for use in _HANDLE_USES:
        method = getattr(result, use, None)
        if callable(method) and all(p.default is not inspect.Parameter.empty
                                    for p in inspect.signature(method).parameters.values()
                                    if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)):
            try:
                _use_handle(method(), depth + 1)
            except UnusableHandle:
                raise
            except Exception as e:
                raise UnusableHandle(f"its {type(result).__name__}.{use}() fails with {type(e).__name__}: {e}") from e
            return
    if depth == 0:
        raise UnusableHandle(f"{type(result).__name__} is only a handle: the simulator serves none of its endpoints")


def probe(handles: dict[str, Callable[[], Any]], key: str, project_key: str) -> str | None:
    """How `Class.method` fails with probe arguments, or None when it works (then a contract test is due)."""
    cls_name, name = key.split(".", 1)
    with tempfile.TemporaryDirectory() as scratch:
        try:
            with _deadline(PROBE_SECONDS):
                target = handles[cls_name]()
                attr = inspect.getattr_static(type(target), name)
                if isinstance(attr, property):
                    _use_handle(getattr(target, name))
                    return None
                method = getattr(target, name)
                params = [p for p in inspect.signature(method).parameters.values()
                          if p.default is inspect.Parameter.empty
                          and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
                result = method(*[_argument(p.name, scratch) for p in params])
                if hasattr(result, "__next__"):
                    list(result)
                _use_handle(result)
        except Exception as e:  # the failure is the answer
            message = f"{type(e).__name__}: {e}"
            for folder in handles["DSSProject"]().list_managed_folders():  # server-made ids vary from run to run
                message = message.replace(folder["id"], "{folderId}")
            return normalise(message, project_key)
    return None
