"""Exit codes of `dss-iac` (docs/cli.md lists them; `2` is kept for "changes present", as Terraform does)."""

OK = 0
ERROR = 1
CHANGES = 2  # plan/drift with --detailed-exitcode: there are changes (or drift)
INVALID = 3  # the configuration is invalid, or names a connection or code env the target DSS lacks
LOCKED = 4  # the state lock is held by another run (also: `state unlock` of a live holder without --force)
STALE = 5  # the saved plan no longer matches the state or the configuration
APPROVAL = 6  # an approval or confirmation is missing
TESTS_FAILED = 7  # `dss-iac test` (or `promote --verify`): a test failed or could not run
SIGN_OFF = 8  # a Govern sign-off the environment requires is pending, not requested, or rejected
USAGE = 64  # wrong command-line usage
INTERRUPTED = 130
