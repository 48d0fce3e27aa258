"""Read what a Dockerfile does: stages, COPY sources, ENV, WORKDIR, CMD, HEALTHCHECK.

A small reader for the instructions our Dockerfile uses (not a full BuildKit parser), so tests
can run exactly the command the image runs and check exactly the health check it declares. Also
the two Docker file formats the tests need: ``docker run --env-file`` and ``.dockerignore``.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field


@dataclass
class Instruction:
    """One instruction: upper-case keyword and the rest of its (joined) line."""

    keyword: str
    args: str


@dataclass
class Stage:
    """One FROM … stage with its instructions in order."""

    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        """Every instruction with this keyword, in order."""
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction:
        """The last instruction with this keyword (the one Docker uses for CMD, WORKDIR …)."""
        found = self.all(keyword)
        if not found:
            raise AssertionError(f"stage {self.name or self.base} has no {keyword}")
        return found[-1]


def instructions(text: str) -> list[Instruction]:
    """Split a Dockerfile into instructions, joining ``\\`` continuations, dropping comments."""
    result: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, args = line.partition(" ")
        result.append(Instruction(keyword.upper(), args.strip()))
    return result


def stages(text: str) -> tuple[dict[str, str], list[Stage]]:
    """The global ARGs (name → default) and the stages of the Dockerfile."""
    args: dict[str, str] = {}
    result: list[Stage] = []
    for inst in instructions(text):
        if inst.keyword == "FROM":
            words = inst.args.split()
            base = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m[1] or m[2], ""), words[0])
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            result.append(Stage(base=base, name=name))
        elif not result:
            if inst.keyword == "ARG":
                key, _, default = inst.args.partition("=")
                args[key] = default
        else:
            result[-1].instructions.append(inst)
    return args, result


def exec_form(args: str) -> list[str]:
    """Parse a JSON exec-form argument list; fail if it is shell form."""
    value = json.loads(args)
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise AssertionError(f"not an exec-form list: {args}")
    return value


def env_of(stage: Stage) -> dict[str, str]:
    """The ENV a stage sets (``ENV A=1 B=2`` form)."""
    env: dict[str, str] = {}
    for inst in stage.all("ENV"):
        for word in shlex.split(inst.args):
            key, sep, value = word.partition("=")
            if not sep:
                raise AssertionError(f"use ENV KEY=value, not the legacy form: {inst.args}")
            env[key] = value
    return env


def healthcheck(stage: Stage) -> tuple[dict[str, str], list[str]]:
    """The HEALTHCHECK's options (--interval=…) and its exec-form command."""
    args = stage.last("HEALTHCHECK").args
    options: dict[str, str] = {}
    while args.startswith("--"):
        option, _, args = args.partition(" ")
        key, _, value = option[2:].partition("=")
        options[key] = value
        args = args.lstrip()
    keyword, _, command = args.partition(" ")
    if keyword.upper() != "CMD":
        raise AssertionError(f"HEALTHCHECK without CMD: {args}")
    return options, exec_form(command.strip())


def copy_sources(stage: Stage) -> list[tuple[list[str], str]]:
    """(sources, destination) of each COPY from the build context (not ``--from=``)."""
    result = []
    for inst in stage.all("COPY"):
        words = shlex.split(inst.args)
        if any(w.startswith("--from") for w in words):
            continue
        words = [w for w in words if not w.startswith("--")]
        result.append((words[:-1], words[-1]))
    return result


def read_env_file(text: str) -> dict[str, str]:
    """Parse an env file exactly as ``docker run --env-file`` does (docker/cli opts/envfile).

    Leading whitespace is trimmed, blank lines and lines starting with # are skipped, the line is
    split at the first =, and the value is kept literally: no quote removal, no escapes.
    """
    env: dict[str, str] = {}
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.lstrip()
        if number == 1:
            line = line.removeprefix("\ufeff")
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        name = name.lstrip()
        if re.search(r"\s", name):
            raise ValueError(f"variable {name!r} contains whitespaces (line {number})")
        if not name:
            raise ValueError(f"no variable name on line {number}")
        if sep:
            env[name] = value
    return env


def _ignore_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
            continue
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            continue
        out += {"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char))
        i += 1
    return re.compile(out + r"\Z")


def dockerignored(patterns_text: str, path: str) -> bool:
    """Whether ``path`` (relative, /-separated) is left out of the build context.

    Docker's rules: patterns in order, the last match wins, ``!`` re-includes, ``**`` spans
    directories, and a pattern that matches a parent directory excludes what is below it.
    """
    patterns = []
    for raw in patterns_text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        line = line[1:].strip() if negate else line
        patterns.append((negate, _ignore_regex(line.strip("/"))))
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for negate, regex in patterns:
        if any(regex.match(candidate) for candidate in candidates):
            excluded = not negate
    return excluded
