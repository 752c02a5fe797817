"""The configuration of a scenario: its triggers, steps and reporters, as a project file writes them.

Common step, trigger and reporter types are typed (`type: sql`, `type: slack`...); any other DSS type is written
with DSS's own type name and its params as an open map (`{type: send_report, params: {...}}`), which survives
round trips. Reporter credentials (webhook URLs, tokens, passwords) are secrets: only `${env:NAME}` is accepted.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Discriminator, Field, Tag, ValidationInfo, field_validator, model_validator

from ..config.envref import has_ref
from ..config.models import MAX_INT32, Strict
from ..config.testing_models import WAIVERS_HELP, Waivers
from ..secrets import Sensitive, is_secret_key

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
FREQUENCIES = ("Minutely", "Hourly", "Daily", "Weekly", "Monthly")
MONTHLY_RUN_ON = ("ON_THE_DAY", "LAST_DAY_OF_THE_MONTH", "FIRST_WEEK", "SECOND_WEEK", "THIRD_WEEK", "FOURTH_WEEK",
                  "LAST_WEEK")
BUILD_MODES = Literal["RECURSIVE_BUILD", "NON_RECURSIVE_FORCED_BUILD", "RECURSIVE_FORCED_BUILD"]
ACTIVE = "`false`: the trigger is kept but never fires"
SECRET_HELP = "a secret: `${env:NAME}` only, never a literal; write-only (sent to DSS, never read back)"


def secret_ref(value: Any, what: str) -> Any:
    """A secret of a project file must come from the environment: a literal would sit in Git."""
    if value is None or value == "" or isinstance(value, Sensitive) or has_ref(value):
        return value
    raise ValueError(f"a literal {what} in a project file: write it as \"${{env:NAME}}\" and set NAME in the "
                     "environment (secrets never sit in files)")


def secret_keys(value: Any, path: str = "") -> Any:
    """An open map's values under keys DSS keeps secret (`password`, `token`...) must be `${env:NAME}` too."""
    if isinstance(value, dict):
        for k, v in value.items():
            where = f"{path}.{k}" if path else str(k)
            if is_secret_key(str(k)) and not isinstance(v, dict | list | bool):
                secret_ref(v, f"value for '{where}'")
            else:
                secret_keys(v, where)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            secret_keys(v, f"{path}.{i}")
    return value


# The typed types, by their YAML names.
TRIGGER_TYPES = ("temporal", "dataset", "sql", "follow_scenario", "python")
STEP_TYPES = ("build", "clear", "run_scenario", "python", "sql", "set_project_variables", "set_global_variables",
              "compute_metrics", "run_checks", "refresh_statistics")
REPORTER_TYPES = ("mail", "slack", "teams", "webhook")
# Open entries must not use a DSS type that has a typed form: they would read back typed, a change every plan.
TYPED_DSS_TRIGGERS = {"temporal": "temporal", "ds_modified": "dataset", "sql_query": "sql",
                      "follow_scenariorun": "follow_scenario", "custom_python": "python"}
TYPED_DSS_STEPS = {"build_flowitem": "build", "clear_items": "clear", "run_scenario": "run_scenario",
                   "custom_python": "python", "exec_sql": "sql", "set_project_vars": "set_project_variables",
                   "set_global_vars": "set_global_variables", "compute_metrics": "compute_metrics",
                   "check_dataset": "run_checks", "update_statistics": "refresh_statistics"}
TYPED_DSS_REPORTERS = {"mail-scenario": "mail", "slack-scenario": "slack", "msft-teams-scenario": "teams",
                       "webhook-scenario": "webhook"}


# -- triggers ---------------------------------------------------------------------------------------------------
class TemporalTrigger(Strict):
    """A time-based trigger (DSS's `temporal`)."""

    type: Literal["temporal"] = Field(description="`temporal`: a time-based trigger")
    frequency: Literal["Minutely", "Hourly", "Daily", "Weekly", "Monthly"] = Field(
        description="how often the trigger fires")
    hour: Annotated[int, Field(ge=0, le=23)] = Field(default=0, description="Daily, Weekly, Monthly: hour of the day "
                                                                            "it fires")
    minute: Annotated[int, Field(ge=0, le=59)] = Field(default=0, description="Hourly, Daily, Weekly, Monthly: minute "
                                                                              "of the hour it fires")
    days: list[Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]] = Field(
        default_factory=list, description="weekly triggers: days of the week")
    repeat: Annotated[int, Field(ge=1, le=MAX_INT32)] = Field(default=1, description="every N minutes/hours/days...")
    run_on: Literal["ON_THE_DAY", "LAST_DAY_OF_THE_MONTH", "FIRST_WEEK", "SECOND_WEEK", "THIRD_WEEK", "FOURTH_WEEK",
                    "LAST_WEEK"] = Field(default="ON_THE_DAY", description="Monthly: when in the month it fires")
    timezone: str = Field(default="SERVER", description="time zone of hour and minute; `SERVER`: the DSS server's")
    active: bool = Field(default=True, description=ACTIVE)


class DatasetTrigger(Strict):
    """A trigger that fires when one of the datasets changes (DSS's `ds_modified`)."""

    type: Literal["dataset"] = Field(description="`dataset`: fires when a dataset changes")
    datasets: list[str] = Field(min_length=1, description="names of datasets of the project whose change fires it")
    delay: Annotated[int, Field(ge=0)] = Field(default=900, description="seconds DSS waits after a change before "
                                                                        "firing")
    when_all: bool = Field(default=False, description="fire only once every dataset has changed")
    active: bool = Field(default=True, description=ACTIVE)


class SqlTrigger(Strict):
    """A trigger that fires when the result of a SQL query changes (DSS's `sql_query`)."""

    type: Literal["sql"] = Field(description="`sql`: fires when the query's result changes")
    connection: str = Field(description="logical connection the query runs on, remapped per environment")
    sql: str = Field(description="the query")
    delay: Annotated[int, Field(ge=0)] = Field(default=900, description="seconds between two runs of the query")
    active: bool = Field(default=True, description=ACTIVE)


class FollowTrigger(Strict):
    """A trigger that fires when another scenario ends (DSS's `follow_scenariorun`)."""

    type: Literal["follow_scenario"] = Field(description="`follow_scenario`: fires after another scenario's run")
    scenario: str = Field(description="the scenario to follow: its name in this project, or `PROJECT.ID`")
    delay: Annotated[int, Field(ge=0)] = Field(default=60, description="seconds DSS waits before firing")
    active: bool = Field(default=True, description=ACTIVE)


class PythonTrigger(Strict):
    """A trigger whose Python code decides when it fires (DSS's `custom_python`)."""

    type: Literal["python"] = Field(description="`python`: custom Python code fires it")
    code: str = Field(description="path of the Python file, relative to this project file")
    code_env: str | None = Field(default=None, description="logical code env (default: the project's)")
    delay: Annotated[int, Field(ge=0)] = Field(default=900, description="seconds between two runs of the code")
    active: bool = Field(default=True, description=ACTIVE)


class _Open(Strict):
    """What an entry of a DSS type without a typed form has: DSS's type name, its params as they are."""

    typed: ClassVar[dict[str, str]] = {}  # DSS types with a typed form -> their YAML name
    params: dict[str, Any] = Field(default_factory=dict, description="DSS's params (compared on the keys set here)")

    @field_validator("type", check_fields=False)
    @classmethod
    def _not_typed(cls, v: str) -> str:
        if v in cls.typed:
            raise ValueError(f"DSS's type {v} has a typed form here: write `type: {cls.typed[v]}` with its keys")
        return v

    @field_validator("params", mode="before")
    @classmethod
    def _no_literal_secrets(cls, v: Any) -> Any:
        return secret_keys(v)


class OtherTrigger(_Open):
    """A trigger of any other DSS type (a plugin's), written with DSS's type name and its params as they are."""

    typed = TYPED_DSS_TRIGGERS
    type: str = Field(description="DSS's trigger type")
    active: bool = Field(default=True, description=ACTIVE)


# -- steps ------------------------------------------------------------------------------------------------------
RUN_CONDITIONS = Literal["RUN_IF_STATUS_MATCH", "RUN_ALWAYS", "RUN_CONDITIONALLY"]
STEP_OUTCOMES = Literal["SUCCESS", "WARNING", "FAILED", "ABORTED"]


def _no_prior_failure() -> list[STEP_OUTCOMES]:
    return ["SUCCESS", "WARNING"]  # DSS's default: run the step if no prior step failed


class _Step(Strict):
    name: str | None = Field(default=None, description="display name of the step (default: one dss-iac makes "
                                                       "from what the step does)")
    enabled: bool = Field(default=True, description="`false`: the step is kept but skipped")
    # DSS's "Run this step" and retry settings, kept on the step beside its params (runConditionType...).
    run_condition: RUN_CONDITIONS = Field(default="RUN_IF_STATUS_MATCH", description=(
        "when the step runs (DSS's runConditionType): RUN_IF_STATUS_MATCH, when the run's outcome so far is one of "
        "`run_statuses`; RUN_ALWAYS, whatever happened before (a `finally`); RUN_CONDITIONALLY, when "
        "`run_expression` is true"))
    run_statuses: list[STEP_OUTCOMES] = Field(default_factory=_no_prior_failure, description=(
        "with RUN_IF_STATUS_MATCH: the outcomes so far that let the step run (DSS's runConditionStatuses; "
        "[SUCCESS, WARNING]: if no prior step failed, [FAILED]: if some prior step failed)"))
    run_expression: str | None = Field(default=None, description=(
        "with RUN_CONDITIONALLY: DSS's condition (runConditionExpression), e.g. `outcome == 'FAILED'`"))
    max_retries: int = Field(default=0, ge=0, description="times the step is run again when it fails "
                                                          "(DSS's maxRetriesOnFail)")
    retry_delay: int = Field(default=10, ge=0, description="seconds between retries (DSS's delayBetweenRetries)")

    @model_validator(mode="after")
    def _expression_when_conditional(self) -> _Step:
        if self.run_condition == "RUN_CONDITIONALLY" and not self.run_expression:
            raise ValueError("a RUN_CONDITIONALLY step needs `run_expression`, the condition DSS evaluates")
        return self


class BuildStep(_Step):
    """A step that builds datasets or managed folders (DSS's `build_flowitem`)."""

    type: Literal["build"] = Field(description="`build`")
    items: list[str] = Field(min_length=1, description="datasets or folders to build")
    mode: BUILD_MODES = Field(default="RECURSIVE_BUILD", description=(
        "RECURSIVE_BUILD: the items and what they depend on, when out of date; NON_RECURSIVE_FORCED_BUILD: the "
        "items only; RECURSIVE_FORCED_BUILD: the items and everything upstream"))


class ClearStep(_Step):
    """A step that clears datasets or managed folders (DSS's `clear_items`)."""

    type: Literal["clear"] = Field(description="`clear`")
    items: list[str] = Field(min_length=1, description="datasets or folders to clear")


class RunScenarioStep(_Step):
    """A step that runs another scenario and waits for it (DSS's `run_scenario`)."""

    type: Literal["run_scenario"] = Field(description="`run_scenario`")
    scenario: str = Field(description="the scenario to run: its name in this project, or `PROJECT.ID`")


class PythonStep(_Step):
    """A step that runs Python code (DSS's `custom_python`)."""

    type: Literal["python"] = Field(description="`python`")
    code: str = Field(description="path of the Python file, relative to this project file")
    code_env: str | None = Field(default=None, description="logical code env (default: the project's)")


class SqlStep(_Step):
    """A step that runs SQL statements on a connection (DSS's `exec_sql`)."""

    type: Literal["sql"] = Field(description="`sql`")
    connection: str = Field(description="logical connection, remapped per environment")
    sql: str = Field(description="the statements")


class VariablesStep(_Step):
    """A step that sets project variables (`set_project_variables`, DSS's `set_project_vars`) or instance
    variables (`set_global_variables`, DSS's `set_global_vars`)."""

    type: Literal["set_project_variables", "set_global_variables"] = Field(description="which variables it sets")
    variables: dict[str, Any] = Field(description="name -> value")


class DatasetsStep(_Step):
    """A step on datasets: compute their metrics (DSS's `compute_metrics`), run their checks and data quality
    rules (`run_checks`, DSS's `check_dataset`) or refresh their statistics (`refresh_statistics`, DSS's
    `update_statistics`)."""

    type: Literal["compute_metrics", "run_checks", "refresh_statistics"] = Field(description="what it does")
    datasets: list[str] = Field(min_length=1, description="dataset names; `PROJECT.name` for another project's")


class OtherStep(_Step, _Open):
    """A step of any other DSS type (`send_report`, `define_vars`, exports, bundles, a plugin's...), written
    with DSS's type name and its params as they are."""

    typed = TYPED_DSS_STEPS
    type: str = Field(description="DSS's step type")


# -- reporters --------------------------------------------------------------------------------------------------
SECRET_FIELDS = {"webhook_url": "webhook URL", "token": "token", "password": "mail password"}


class _Reporter(Strict):
    name: str | None = Field(default=None, description="display name (default: the channel's kind)")
    active: bool = Field(default=True, description="`false`: the reporter is kept but sends nothing")
    when: str | None = Field(default="true", description="DSS condition on the run (`outcome != 'SUCCESS'`); "
                                                         "null: always")
    phase: Literal["START", "END"] = Field(default="END", description="at the start or at the end of a run")
    channel_id: str | None = Field(default=None, description="a messaging channel of DSS's administration (holds "
                                                             "the credentials there)")
    config: dict[str, Any] = Field(default_factory=dict, description="any other key of DSS's messaging "
                                                                     "configuration (compared on the keys set here)")

    @field_validator("config", mode="before")
    @classmethod
    def _no_literal_secrets(cls, v: Any) -> Any:
        return secret_keys(v)

    @field_validator(*SECRET_FIELDS, mode="before", check_fields=False)
    @classmethod
    def _secret_from_env(cls, v: Any, info: ValidationInfo) -> Any:
        return secret_ref(v, SECRET_FIELDS[str(info.field_name)])


class MailReporter(_Reporter):
    """A mail sent at the end (or start) of a run (DSS's `mail-scenario`)."""

    type: Literal["mail"] = Field(description="`mail`")
    sender: str | None = Field(default=None, description="sender address")
    to: str = Field(description="recipients, comma-separated")
    cc: str | None = Field(default=None, description="copy recipients, comma-separated")
    subject: str | None = Field(default=None, description="subject; DSS variables such as ${scenarioName}")
    message: str | None = Field(default=None, description="body")
    password: str | None = Field(default=None, description="SMTP password when no channel holds it; " + SECRET_HELP)


class SlackReporter(_Reporter):
    """A Slack message (DSS's `slack-scenario`)."""

    type: Literal["slack"] = Field(description="`slack`")
    webhook_url: str | None = Field(default=None, description="incoming webhook URL; " + SECRET_HELP)
    token: str | None = Field(default=None, description="bot token, for the API mode; " + SECRET_HELP)
    channel: str | None = Field(default=None, description="Slack channel, e.g. `#data`")
    message: str | None = Field(default=None, description="the message; DSS variables such as ${outcome}")


class TeamsReporter(_Reporter):
    """A Microsoft Teams message (DSS's `msft-teams-scenario`)."""

    type: Literal["teams"] = Field(description="`teams`")
    webhook_url: str | None = Field(default=None, description="incoming webhook URL; " + SECRET_HELP)
    message: str | None = Field(default=None, description="the message; DSS variables such as ${outcome}")


class WebhookReporter(_Reporter):
    """An HTTP call (DSS's `webhook-scenario`)."""

    type: Literal["webhook"] = Field(description="`webhook`")
    webhook_url: str = Field(description="the URL called; " + SECRET_HELP)
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = Field(default="POST", description="HTTP method")
    payload: str | None = Field(default=None, description="request body")


class OtherReporter(_Reporter):
    """A reporter of any other DSS channel (`twilio-scenario`, `dataset-scenario`, `shell-scenario`, a plugin's),
    written with DSS's messaging type and its configuration in `config`."""

    type: str = Field(description="DSS's messaging type")

    @field_validator("type")
    @classmethod
    def _not_typed(cls, v: str) -> str:
        if v in TYPED_DSS_REPORTERS:
            raise ValueError(f"DSS's type {v} has a typed form here: write `type: {TYPED_DSS_REPORTERS[v]}` with "
                             "its keys")
        return v


# -- the discriminators: typed types by their YAML name, anything else open ----------------------------------------
OPEN = "another DSS type with its params"


def _tagger(typed: tuple[str, ...], open_key: str) -> Any:
    def tag(v: Any) -> str:
        t = v.get("type") if isinstance(v, dict) else getattr(v, "type", None)
        if t is None:
            return None  # type: ignore[return-value]  # pydantic: "missing required key 'type'"
        if t in typed:
            return str(t)
        # An entry of another type is open only with its `params` (`config`): a typo (`type: hourly`) is refused.
        return OPEN if not isinstance(v, dict) or open_key in v else str(t)
    return tag


Trigger = Annotated[
    Annotated[TemporalTrigger, Tag("temporal")] | Annotated[DatasetTrigger, Tag("dataset")]
    | Annotated[SqlTrigger, Tag("sql")] | Annotated[FollowTrigger, Tag("follow_scenario")]
    | Annotated[PythonTrigger, Tag("python")] | Annotated[OtherTrigger, Tag(OPEN)],
    Discriminator(_tagger(TRIGGER_TYPES, "params"))]
Step = Annotated[
    Annotated[BuildStep, Tag("build")] | Annotated[ClearStep, Tag("clear")]
    | Annotated[RunScenarioStep, Tag("run_scenario")] | Annotated[PythonStep, Tag("python")]
    | Annotated[SqlStep, Tag("sql")] | Annotated[VariablesStep, Tag("set_project_variables")]
    | Annotated[VariablesStep, Tag("set_global_variables")] | Annotated[DatasetsStep, Tag("compute_metrics")]
    | Annotated[DatasetsStep, Tag("run_checks")] | Annotated[DatasetsStep, Tag("refresh_statistics")]
    | Annotated[OtherStep, Tag(OPEN)],
    Discriminator(_tagger(STEP_TYPES, "params"))]
Reporter = Annotated[
    Annotated[MailReporter, Tag("mail")] | Annotated[SlackReporter, Tag("slack")]
    | Annotated[TeamsReporter, Tag("teams")] | Annotated[WebhookReporter, Tag("webhook")]
    | Annotated[OtherReporter, Tag(OPEN)],
    Discriminator(_tagger(REPORTER_TYPES, "config"))]


class Scenario(Strict):
    """A scenario: triggers say when it runs, steps (or a Python script) say what it does, reporters say who
    hears of it."""

    name: str | None = Field(default=None, description="display name; defaults to the key")
    type: Literal["step_based", "python"] = Field(default="step_based", description=(
        "`step_based`: `steps` say what it does; `python`: the script in `code` does (DSS's custom Python "
        "scenario). It cannot change in place: a change replaces the scenario"))
    code: str | None = Field(default=None, description="python scenarios: path of the script, relative to this "
                                                       "project file")
    active: bool = Field(default=True, description="`false`: the scenario's triggers do not fire (it can still be "
                                                   "run by hand)")
    triggers: list[Trigger] = Field(default_factory=list, description="when the scenario runs")
    steps: list[Step] = Field(default_factory=list, description="what the scenario does, in order")
    reporters: list[Reporter] = Field(default_factory=list, description=(
        "who hears of its runs; when declared (even empty), authoritative; when left out, DSS's are left alone"))
    tags: list[str] = Field(default_factory=list, description="scenario tags")
    description: str = Field(default="", description="scenario description")
    test: bool = Field(default=False, description="a test scenario (DSS's \"marked as test\"): `dss-iac test -e ENV` "
                                                   "runs it and reports its outcome; when left out, DSS's flag is "
                                                   "left alone")
    waivers: Waivers = Field(default_factory=dict, description=WAIVERS_HELP)

    @model_validator(mode="after")
    def _type_matches(self) -> Scenario:
        if self.type == "python" and self.code is None:
            raise ValueError("a python scenario needs `code`: the path of its script")
        if self.type == "python" and self.steps:
            raise ValueError("a python scenario has no steps: its script says what it does")
        if self.type == "step_based" and self.code is not None:
            raise ValueError("`code` is for python scenarios (type: python); a step-based one runs python steps")
        return self


