"""Source snippets of throwaway distributions (each becomes a package's ``__init__.py``)."""

MODULE = """
from fabrikit.kernel import Manifest, Module, hookimpl


class {cls}(Module):
    manifest = Manifest("{module}", version="{version}")


@hookimpl
def fabrikit_modules():
    return [{cls}]
"""


def module_source(module: str, version: str = "1.0.0") -> str:
    cls = "".join(part.title() for part in module.split("-"))
    return MODULE.format(cls=cls, module=module, version=version)


BROKEN_IMPORT = """
raise ImportError("cannot import name 'gone' from 'somewhere'")
"""

UNKNOWN_HOOK = """
from fabrikit.kernel import Manifest, Module, hookimpl


class Ghost(Module):
    manifest = Manifest("ghost")


@hookimpl
def fabrikit_modules():
    return [Ghost]


@hookimpl
def fabrikit_modulez():  # a typo: no such hook
    return []
"""

OPTIONAL_UNKNOWN_HOOK = """
from fabrikit.kernel import Manifest, Module, hookimpl


class Future(Module):
    manifest = Manifest("future")


@hookimpl
def fabrikit_modules():
    return [Future]


@hookimpl(optionalhook=True)
def fabrikit_from_a_later_version():
    return []
"""

RAISING_HOOK = """
from fabrikit.kernel import hookimpl


@hookimpl
def fabrikit_modules():
    raise RuntimeError("config file missing")
"""

BAD_SIGNATURE = """
from fabrikit.kernel import hookimpl


@hookimpl
def fabrikit_modules(unexpected):
    return []
"""

NOT_A_MODULE = """
from fabrikit.kernel import hookimpl


class Nope:
    pass


@hookimpl
def fabrikit_modules():
    return [Nope]
"""

PLUGINS = """
from fabrikit.kernel import hookimpl
from fabrikit.kernel.plugins import PluginDef

SPEC = "gts.x.core.modkit.plugin.v1~x.test.disc.plugin.v1~"
SEEN_CONFIG = []


@hookimpl
def fabrikit_register_plugins(register, config):
    SEEN_CONFIG.append(config)
    for name in {names!r}:
        register(PluginDef(name, host="host", spec_id=SPEC,
                           instance_id=SPEC + "acme.test.disc." + name.replace("-", "_") + ".v1",
                           factory=lambda pctx: object()))
"""

RAISING_PLUGINS = """
from fabrikit.kernel import hookimpl


@hookimpl
def fabrikit_register_plugins(register, config):
    register("not a PluginDef")
"""
