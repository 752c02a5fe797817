"""Every key of the app, by screen: the help screen shows this table and docs/tui.md lists the same keys."""

from __future__ import annotations

KEYS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Everywhere", (
        ("?", "help: this list of keys"),
        ("ctrl+p", "command palette: open any screen of any environment, refresh, quit"),
        ("r", "refresh the screen from the files, the state and DSS (after an error: retry)"),
        ("esc", "back to the previous screen (in a filtered list: clear the filter first)"),
        ("q", "quit"),
    )),
    ("Lists and trees", (
        ("j / down", "next line"),
        ("k / up", "previous line"),
        ("g", "first line"),
        ("G", "last line"),
        ("enter", "open the line"),
    )),
    ("Overview", (
        ("enter", "plan review of the selected environment"),
        ("d", "drift browser of the selected environment (drift only)"),
        ("h", "history: state serials and the workspace's Git log"),
    )),
    ("Plan review", (
        ("space", "include / exclude the resource or group (the plan is recomputed with targets)"),
        ("/", "filter by address (enter keeps the filter, esc clears it)"),
        ("n / N", "next / previous resource that matches the filter"),
        ("d", "show only the resources that drifted in DSS"),
        ("enter", "resource detail: desired YAML vs actual DSS JSON"),
        ("a", "approve: type the environment's name, then the apply runs (refused if the plan is out of date, or "
              "while Govern has not signed it off)"),
        ("s", "Govern sign-off (environments with approval: govern): request it, or look again at its status"),
        ("r", "plan again from the files and the state as they are now"),
    )),
    ("Drift browser", (
        ("v", "revert: review the plan that restores the configuration in DSS"),
        ("o", "adopt: write the value found in DSS into the YAML (comments kept)"),
        ("enter", "resource detail"),
    )),
    ("Apply", (
        ("esc", "back to the overview once the apply has finished"),
        ("r", "after a refusal (the plan was out of date): plan again and review"),
    )),
    ("Promotion (environments with deploy: bundle)", (
        ("f", "show the promotion from another environment (when several apply directly)"),
    )),
    ("Environment picker (-e named no environment)", (
        ("enter", "open the chosen environment"),
        ("esc", "show every environment"),
    )),
)


def all_keys() -> list[str]:
    return [key for _, keys in KEYS for key, _ in keys]
