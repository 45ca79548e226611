"""Command models: what a user asked for, parsed and validated, with no trace of Slack.

Each model's `verb` is both its discriminator and the name policy rules and the
audit use (`container:ls`, `image:pull`).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from config.settings import LOCAL

# docker's --filter key=value, repeated: {"status": ["exited", "created"]}
Filters = dict[str, list[str]]


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    #: the engine to run against, by configured host name
    host: str = LOCAL
    #: a change of state is announced in the channel; a read is answered to the requester
    changes_state: ClassVar[bool] = False


class Help(Command):
    verb: Literal["help"] = "help"
    topic: str | None = None


class ShowVersion(Command):
    verb: Literal["system:version"] = "system:version"


class ShowInfo(Command):
    verb: Literal["system:info"] = "system:info"


class ListContainers(Command):
    verb: Literal["container:ls"] = "container:ls"
    all: bool = False
    quiet: bool = False
    no_trunc: bool = False
    latest: bool = False
    last: int = -1
    filters: Filters = Field(default_factory=dict)


class ListImages(Command):
    verb: Literal["image:ls"] = "image:ls"
    all: bool = False
    quiet: bool = False
    digests: bool = False
    no_trunc: bool = False
    repository: str | None = None
    filters: Filters = Field(default_factory=dict)


AnyCommand = Annotated[
    Help | ShowVersion | ShowInfo | ListContainers | ListImages,
    Field(discriminator="verb"),
]
