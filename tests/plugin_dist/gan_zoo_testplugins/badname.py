"""A plugin whose hook raises while registering."""

from gan_zoo.hookspecs import hookimpl


@hookimpl
def register_datasets(register):
    register("Bad_Name", "os:getcwd", description="Names must be lower-case with hyphens.")
