"""`rocket2 doctor [--json]`: run every check; print one line each (or JSON); exit 0 all ok,
1 with warnings only, 2 on a failure (or when the config does not load)."""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace

from slack_sdk.errors import SlackApiError

from app.doctor.checks import CHECKS, Check
from app.doctor.context import Context, NotChecked
from app.doctor.report import Result, exit_status, fail, render_json, render_text, warn
from app.github.apps import AppCallError
from app.outside import describe_failure
from config import ConfigError, install_secret_filter, load_config
from config.cli import default_env_file

log = logging.getLogger("rocket2.doctor")


def run_check(check: Check, ctx: Context) -> Result:
    """One check's Result, named after its function; a check that could not ask says why,
    never with a traceback."""
    name = check.__name__.replace("_", " ")
    try:
        return replace(check(ctx), check=name)
    except NotChecked as exc:
        return warn(
            name,
            f"not checked: an earlier check could not ask ({exc})",
            "fix the failure above first",
        )
    except AppCallError as exc:
        return fail(name, f"GitHub did not answer ({exc.status}: {exc})", "see github app above")
    except (OSError, SlackApiError) as exc:
        return fail(name, f"could not ask ({describe_failure(exc)})", "see the checks above")
    except Exception as exc:
        log.debug("check %s raised", name, exc_info=True)
        return fail(
            name,
            f"the check itself failed ({type(exc).__name__})",
            "run again; if it persists, report it",
        )


def cmd_doctor(args: argparse.Namespace) -> int:
    """Load the config, run the checks, report."""
    try:
        config = load_config(env_file=default_env_file(args.env_file))
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    install_secret_filter(config.secret_values())
    logging.getLogger("slack_sdk").setLevel(logging.CRITICAL)  # each check says it in one line
    ctx = Context(config)
    results = [run_check(check, ctx) for check in CHECKS]
    print(render_json(results) if args.json else render_text(results))
    return exit_status(results)
